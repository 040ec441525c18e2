// streamrun.js: read a streamrun relay (server-sent events) in the browser.
//
// A small dependency-free ES module shipped with the streamrun Python package
// (streamrun/web/streamrun.js). It POSTs with fetch() and reads the body with a
// ReadableStream reader (EventSource cannot POST), parses the bytes by the
// WHATWG rules
// (https://html.spec.whatwg.org/multipage/server-sent-events.html#event-stream-interpretation),
// accumulates text per message part and tool-call arguments per call, and
// calls handler-style callbacks:
//
//   import { streamRun } from "./streamrun.js";
//   const run = streamRun("/api/chat", {
//     body: { message: "Hello" },
//     onTextDelta(delta, snapshot, part) {...},   // part: {messageId, index}
//     onToolCallCreated(toolCall) {...},
//     onToolCallDelta(delta, snapshot) {...},
//     onToolCallDone(toolCall) {...},             // with its output, when known
//     onToolOutput(toolCall, output) {...},       // the server's tool loop computed it
//     onRunStatus(status, run) {...},
//     onError(error) {...},                        // {message, type, code, param}
//     onEnd() {...},                               // once, in every case
//   });
//   run.abort();         // stop reading (the server cancels the run)
//   await run.done;

const LF = 10;
const CR = 13;

/** A WHATWG event-stream parser: feed() bytes or text, close() at EOF. */
export class SSEParser {
  /** @param {(event: {event: string, data: string, id: string, retry: number|null}) => void} onEvent */
  constructor(onEvent) {
    this.onEvent = onEvent;
    this.decoder = new TextDecoder("utf-8"); // drops one leading BOM, streams UTF-8
    this.pending = "";   // text of an unterminated line
    this.skipLF = false; // the last chunk ended with CR: a leading LF belongs to it
    this.data = "";
    this.hasData = false;
    this.type = "";
    this.lastId = "";
    this.retry = null;   // a valid retry field of the current block
    this.closed = false;
  }

  /** Feed a chunk (Uint8Array or string); complete events are dispatched. */
  feed(chunk) {
    if (this.closed) throw new Error("SSEParser: feed() after close()");
    const text = typeof chunk === "string" ? chunk : this.decoder.decode(chunk, { stream: true });
    this._text(text);
  }

  /** End of input: an unterminated event is discarded (WHATWG). */
  close() {
    if (this.closed) return;
    this._text(this.decoder.decode());
    this.closed = true;
  }

  _text(text) {
    if (!text) return;
    let i = 0;
    if (this.skipLF) {
      this.skipLF = false;
      if (text.charCodeAt(0) === LF) i = 1;
    }
    let start = i;
    let buffer = null;
    for (; i < text.length; i++) {
      const c = text.charCodeAt(i);
      if (c !== LF && c !== CR) continue;
      let line = text.slice(start, i);
      if (buffer === null && this.pending) {
        line = this.pending + line;
        this.pending = "";
      }
      buffer = "";
      if (c === CR) {
        if (i + 1 < text.length) {
          if (text.charCodeAt(i + 1) === LF) i++;
        } else {
          this.skipLF = true;
        }
      }
      start = i + 1;
      this._line(line);
    }
    this.pending = (buffer === null ? this.pending : "") + text.slice(start);
  }

  _line(line) {
    if (line === "") {
      this._dispatch();
      return;
    }
    if (line.charCodeAt(0) === 58) return; // ':' comment
    const colon = line.indexOf(":");
    let field = line;
    let value = "";
    if (colon >= 0) {
      field = line.slice(0, colon);
      value = line.slice(colon + 1);
      if (value.charCodeAt(0) === 32) value = value.slice(1);
    }
    if (field === "event") this.type = value;
    else if (field === "data") {
      this.data += value + "\n";
      this.hasData = true;
    } else if (field === "id") {
      if (value.indexOf("\0") < 0) this.lastId = value;
    } else if (field === "retry") {
      if (/^[0-9]+$/.test(value)) this.retry = parseInt(value, 10);
    }
  }

  _dispatch() {
    const retry = this.retry;
    this.retry = null;
    if (!this.hasData) {
      this.type = "";
      return;
    }
    const data = this.data.slice(0, -1);
    const event = { event: this.type || "message", data, id: this.lastId, retry };
    this.data = "";
    this.hasData = false;
    this.type = "";
    this.onEvent(event);
  }
}

function errorObject(value) {
  if (value && typeof value === "object") {
    const body = value.error && typeof value.error === "object" ? value.error : value;
    return {
      message: String(body.message ?? JSON.stringify(body)),
      type: body.type ?? null,
      code: body.code ?? null,
      param: body.param ?? null,
    };
  }
  return { message: String(value), type: null, code: null, param: null };
}

/**
 * Accumulates a relayed run stream and calls the callbacks (one per run stream).
 * Use it directly with events from any source: `new RunAccumulator(cb).event(name, data)`.
 */
export class RunAccumulator {
  constructor(callbacks = {}) {
    this.cb = callbacks;
    this.texts = new Map();      // "messageId:index" -> text so far
    this.toolCalls = new Map();  // "stepId:index" -> tool call snapshot
    this.done = new Set();       // keys of the calls already done
    this.run = null;
    this.ended = false;
    this.failed = false;
  }

  _call(name, ...args) {
    const fn = this.cb[name];
    if (typeof fn === "function") fn(...args);
  }

  /** One relayed event: its wire name and its data (text). */
  event(name, text) {
    if (name === "done") {
      // The stream's normal end: every call still open is done (as in Python).
      if (!this.failed) {
        for (const [key, call] of this.toolCalls) {
          if (this.done.has(key)) continue;
          this.done.add(key);
          this._call("onToolCallDone", call);
        }
      }
      return;
    }
    let data = text;
    try {
      data = JSON.parse(text);
    } catch (e) {
      if (name !== "error") return; // an unknown event with non-JSON data
    }
    this._call("onEvent", name, data);
    if (name === "error") {
      this.failed = true;
      this._call("onError", errorObject(data));
    } else if (name === "streamrun.tool_output") {
      this._toolOutput(data);
    } else if (name.startsWith("thread.run.step.")) {
      this._step(name, data);
    } else if (name.startsWith("thread.run.")) {
      this.run = data;
      if (name === "thread.run.requires_action") this._required(data);
      this._call("onRunStatus", data.status, data);
    } else if (name === "thread.message.created") {
      this._call("onMessageCreated", data);
    } else if (name === "thread.message.delta") {
      for (const part of (data.delta && data.delta.content) || []) {
        if (part.type !== "text" || !part.text || !part.text.value) continue;
        const key = `${data.id}:${part.index}`;
        const snapshot = (this.texts.get(key) || "") + part.text.value;
        this.texts.set(key, snapshot);
        this._call("onTextDelta", part.text.value, snapshot, { messageId: data.id, index: part.index });
      }
    } else if (name === "thread.message.completed") {
      this._call("onMessageDone", data);
    }
  }

  // requires_action lists the calls the run waits for: each not done yet is done
  // now, in the listed order; one never streamed (no call of its id) is created
  // from the listing first (as the Python accumulator does).
  _required(run) {
    const action = run.required_action;
    const listed = (action && action.submit_tool_outputs && action.submit_tool_outputs.tool_calls) || [];
    for (const call of listed) {
      let key = null;
      for (const [k, known] of this.toolCalls) if (known.id === call.id) key = k;
      if (key !== null && this.done.has(key)) continue;
      let snap = key === null ? null : this.toolCalls.get(key);
      if (snap === null) {
        key = `required:${call.id}`;
        snap = Object.assign({}, call);
        this.toolCalls.set(key, snap);
        this._call("onToolCallCreated", snap);
      }
      this.done.add(key);
      this._call("onToolCallDone", snap);
    }
  }

  // A relaying server's tool loop (Python: functions=, on_tool_output) computed an
  // output: {tool_call, output}. The call's snapshot gets it, then onToolOutput.
  _toolOutput(data) {
    const call = (data && data.tool_call) || {};
    let snap = null;
    for (const known of this.toolCalls.values()) if (known.id === call.id) snap = known;
    const done = snap || Object.assign({}, call);
    if (done.function) done.function.output = data.output;
    this._call("onToolOutput", done, data.output);
  }

  _step(name, step) {
    if (name === "thread.run.step.delta") {
      const details = step.delta && step.delta.step_details;
      if (!details || details.type !== "tool_calls") return;
      for (const delta of details.tool_calls || []) {
        const key = `${step.id}:${delta.index}`;
        let snap = this.toolCalls.get(key);
        const created = !snap;
        if (created) {
          snap = { id: delta.id, type: delta.type, index: delta.index, stepId: step.id };
          if (delta.type === "function") snap.function = { name: "", arguments: "", output: null };
          if (delta.type === "code_interpreter") snap.code_interpreter = { input: "", outputs: [] };
          this.toolCalls.set(key, snap);
        }
        if (delta.function) {
          if (delta.function.name) snap.function.name = delta.function.name;
          if (delta.function.arguments) snap.function.arguments += delta.function.arguments;
          if (delta.function.output != null) snap.function.output = delta.function.output;
        }
        if (delta.code_interpreter) {
          if (delta.code_interpreter.input) snap.code_interpreter.input += delta.code_interpreter.input;
          for (const out of delta.code_interpreter.outputs || []) snap.code_interpreter.outputs.push(out);
        }
        if (delta.file_search) snap.file_search = delta.file_search;
        if (created) this._call("onToolCallCreated", snap);
        this._call("onToolCallDelta", delta, snap);
      }
    } else if (name === "thread.run.step.completed") {
      const details = step.step_details;
      if (!details || details.type !== "tool_calls") return;
      (details.tool_calls || []).forEach((call, i) => {
        const index = call.index ?? i;
        const snap = this.toolCalls.get(`${step.id}:${index}`);
        const key = `${step.id}:${index}`;
        if (this.done.has(key)) return;
        const done = Object.assign({}, snap || {}, call, { stepId: step.id, index });
        this.toolCalls.set(key, done);
        // A call never streamed (file_search results) is created here, as in Python.
        if (!snap) this._call("onToolCallCreated", done);
        this.done.add(key);
        this._call("onToolCallDone", done);
      });
    }
  }
}

/**
 * POST `body` (JSON) to `url` and read the relayed run stream.
 * Returns {abort(), done: Promise<void>, accumulator}.
 */
export function streamRun(url, options = {}) {
  const controller = new AbortController();
  const acc = new RunAccumulator(options);
  let aborted = false;
  const call = (name, ...args) => {
    const fn = options[name];
    if (typeof fn === "function") fn(...args);
  };
  const done = (async () => {
    try {
      const response = await fetch(url, {
        method: "POST",
        headers: Object.assign(
          { "Content-Type": "application/json", Accept: "text/event-stream" },
          options.headers || {},
        ),
        body: options.body === undefined ? undefined : JSON.stringify(options.body),
        signal: controller.signal,
      });
      if (!response.ok) {
        let detail = "";
        try {
          detail = await response.text();
        } catch (e) {
          detail = "";
        }
        let error;
        try {
          error = errorObject(JSON.parse(detail));
        } catch (e) {
          error = errorObject(detail || response.statusText);
        }
        error.message = `HTTP ${response.status}: ${error.message}`;
        acc.failed = true;
        call("onError", error);
        return;
      }
      let sawDone = false;
      const parser = new SSEParser((ev) => {
        if (ev.event === "done") sawDone = true;
        acc.event(ev.event, ev.data);
      });
      const reader = response.body.getReader();
      for (;;) {
        const { value, done: eof } = await reader.read();
        if (eof) break;
        parser.feed(value);
      }
      parser.close();
      if (!sawDone && !acc.failed) {
        acc.failed = true;
        call("onError", errorObject({ message: "the relay ended before [DONE]", type: "StreamInterrupted" }));
      }
    } catch (e) {
      if (!aborted) {
        acc.failed = true;
        call("onError", errorObject({ message: String((e && e.message) || e), type: "NetworkError" }));
      }
    } finally {
      acc.ended = true;
      call("onEnd", { aborted, failed: acc.failed, run: acc.run });
    }
  })();
  return {
    abort() {
      aborted = true;
      controller.abort();
    },
    done,
    accumulator: acc,
  };
}
