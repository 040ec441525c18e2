// The JS parser of streamrun/web/streamrun.js against the Python decoder.
//
// Run by tests/test_web_js.py, which writes the cases (input bytes, explicit
// chunkings, and the events streamrun.sse.SSEDecoder gives) to the JSON file
// named by STREAMRUN_SSE_CASES. Each case is fed whole, byte by byte, split at
// every point (two pieces, for small inputs) and in random pieces.
import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { SSEParser, RunAccumulator } from "../../streamrun/web/streamrun.js";

const cases = JSON.parse(readFileSync(process.env.STREAMRUN_SSE_CASES, "utf8"));

function decode(chunks) {
  const out = [];
  const parser = new SSEParser((e) => out.push(e));
  for (const chunk of chunks) parser.feed(chunk);
  parser.close();
  return out;
}

function rng(seed) {
  let s = seed >>> 0;
  return () => {
    s = (s * 1664525 + 1013904223) >>> 0;
    return s / 4294967296;
  };
}

function chunkings(bytes) {
  const out = [["whole", [bytes]]];
  out.push(["bytewise", Array.from(bytes, (_, i) => bytes.subarray(i, i + 1))]);
  if (bytes.length <= 300) {
    for (let cut = 0; cut <= bytes.length; cut++) {
      out.push([`split@${cut}`, [bytes.subarray(0, cut), bytes.subarray(cut)]]);
    }
  }
  for (const seed of [1, 2, 3, 4, 5]) {
    const next = rng(seed);
    const pieces = [];
    let pos = 0;
    while (pos < bytes.length) {
      const size = Math.floor(next() * 17); // empty pieces included
      pieces.push(bytes.subarray(pos, pos + size));
      pos += size;
    }
    out.push([`random${seed}`, pieces]);
  }
  return out;
}

for (const c of cases.decoder) {
  test(`sse: ${c.name}`, () => {
    const bytes = Uint8Array.from(Buffer.from(c.input, "base64"));
    const ways = c.chunks
      ? [["given", c.chunks.map((b) => Uint8Array.from(Buffer.from(b, "base64")))]]
      : chunkings(bytes);
    for (const [how, pieces] of ways) {
      assert.deepEqual(decode(pieces), c.events, `${c.name} (${how})`);
    }
  });
}

for (const c of cases.runs || []) {
  test(`accumulate: ${c.name}`, () => {
    const texts = [];
    const created = [];
    const done = [];
    const statuses = [];
    const errors = [];
    const acc = new RunAccumulator({
      onTextDelta: (delta, snapshot) => texts.push([delta, snapshot]),
      onToolCallCreated: (call) => created.push(call.function ? call.function.name : call.type),
      onToolCallDone: (call) => done.push(call.id),
      onRunStatus: (status) => statuses.push(status),
      onError: (error) => errors.push(error.message),
    });
    const parser = new SSEParser((e) => acc.event(e.event, e.data));
    parser.feed(Uint8Array.from(Buffer.from(c.input, "base64")));
    parser.close();
    const joined = texts.map((t) => t[0]).join("");
    assert.deepEqual([...acc.texts.values()], c.texts);
    assert.equal(joined, c.texts.join(""));
    for (const [delta, snapshot] of texts) assert.ok(snapshot.endsWith(delta));
    assert.deepEqual(created, c.tool_calls);
    assert.deepEqual(done, c.tool_calls_done);
    assert.deepEqual(statuses, c.statuses);
    assert.deepEqual(errors, c.errors);
  });
}
