"""streamrun: a fast, correct async client for OpenAI Assistants run streams.

See the README for a tour; every name below is documented where it is defined.

Names are imported lazily (PEP 562): ``import streamrun`` costs almost nothing,
and ``streamrun.AsyncClient`` imports aiohttp, attrs and cattrs on first use,
so the ``streamrun`` command starts fast. Type checkers read the imports in
the ``typing.TYPE_CHECKING`` block; ``_EXPORTS`` says where each name lives at run
time, and ``tests/test_exports.py`` checks that the two and ``__all__`` agree.
"""

from __future__ import annotations

import importlib
import typing

from ._version import __version__ as __version__

if typing.TYPE_CHECKING:
    from ._client import (
        AsyncClient as AsyncClient,
        Messages as Messages,
        Runs as Runs,
        Threads as Threads,
    )
    from ._conversation import Conversation as Conversation
    from ._events import (
        TERMINAL_RUN_EVENTS as TERMINAL_RUN_EVENTS,
        DoneEvent as DoneEvent,
        ErrorEvent as ErrorEvent,
        Event as Event,
        MessageEvent as MessageEvent,
        RunEvent as RunEvent,
        RunStepEvent as RunStepEvent,
        ThreadCreated as ThreadCreated,
        ThreadMessageCompleted as ThreadMessageCompleted,
        ThreadMessageCreated as ThreadMessageCreated,
        ThreadMessageDelta as ThreadMessageDelta,
        ThreadMessageIncomplete as ThreadMessageIncomplete,
        ThreadMessageInProgress as ThreadMessageInProgress,
        ThreadRunCancelled as ThreadRunCancelled,
        ThreadRunCancelling as ThreadRunCancelling,
        ThreadRunCompleted as ThreadRunCompleted,
        ThreadRunCreated as ThreadRunCreated,
        ThreadRunExpired as ThreadRunExpired,
        ThreadRunFailed as ThreadRunFailed,
        ThreadRunIncomplete as ThreadRunIncomplete,
        ThreadRunInProgress as ThreadRunInProgress,
        ThreadRunQueued as ThreadRunQueued,
        ThreadRunRequiresAction as ThreadRunRequiresAction,
        ThreadRunStepCancelled as ThreadRunStepCancelled,
        ThreadRunStepCompleted as ThreadRunStepCompleted,
        ThreadRunStepCreated as ThreadRunStepCreated,
        ThreadRunStepDelta as ThreadRunStepDelta,
        ThreadRunStepExpired as ThreadRunStepExpired,
        ThreadRunStepFailed as ThreadRunStepFailed,
        ThreadRunStepInProgress as ThreadRunStepInProgress,
        UnknownEvent as UnknownEvent,
        parse_event as parse_event,
    )
    from ._exceptions import (
        APIConnectionError as APIConnectionError,
        APIStatusError as APIStatusError,
        AuthenticationError as AuthenticationError,
        BadRequestError as BadRequestError,
        ConflictError as ConflictError,
        EventTooLargeError as EventTooLargeError,
        InternalServerError as InternalServerError,
        NotFoundError as NotFoundError,
        PermissionDeniedError as PermissionDeniedError,
        ProtocolError as ProtocolError,
        RateLimitError as RateLimitError,
        ResponseTooLargeError as ResponseTooLargeError,
        StreamConsumedError as StreamConsumedError,
        StreamError as StreamError,
        StreamFailure as StreamFailure,
        StreamInterrupted as StreamInterrupted,
        StreamrunError as StreamrunError,
        StreamTimeout as StreamTimeout,
        ToolLoopError as ToolLoopError,
        UnprocessableEntityError as UnprocessableEntityError,
        ValidationError as ValidationError,
    )
    from ._function_tool import (
        ArgumentsError as ArgumentsError,
        function_tool as function_tool,
    )
    from ._handler import (
        AsyncEventHandler as AsyncEventHandler,
    )
    from ._models import (
        Annotation as Annotation,
        AnnotationDelta as AnnotationDelta,
        Attachment as Attachment,
        AttachmentTool as AttachmentTool,
        CodeInterpreter as CodeInterpreter,
        CodeInterpreterDelta as CodeInterpreterDelta,
        CodeInterpreterImage as CodeInterpreterImage,
        CodeInterpreterImageDelta as CodeInterpreterImageDelta,
        CodeInterpreterImageFile as CodeInterpreterImageFile,
        CodeInterpreterLogs as CodeInterpreterLogs,
        CodeInterpreterLogsDelta as CodeInterpreterLogsDelta,
        CodeInterpreterOutput as CodeInterpreterOutput,
        CodeInterpreterOutputDelta as CodeInterpreterOutputDelta,
        CodeInterpreterResources as CodeInterpreterResources,
        CodeInterpreterTool as CodeInterpreterTool,
        CodeInterpreterToolCall as CodeInterpreterToolCall,
        CodeInterpreterToolCallDelta as CodeInterpreterToolCallDelta,
        ErrorObject as ErrorObject,
        FileCitation as FileCitation,
        FileCitationAnnotation as FileCitationAnnotation,
        FileCitationDeltaAnnotation as FileCitationDeltaAnnotation,
        FilePath as FilePath,
        FilePathAnnotation as FilePathAnnotation,
        FilePathDeltaAnnotation as FilePathDeltaAnnotation,
        FileSearch as FileSearch,
        FileSearchRankingOptions as FileSearchRankingOptions,
        FileSearchResources as FileSearchResources,
        FileSearchResult as FileSearchResult,
        FileSearchResultContent as FileSearchResultContent,
        FileSearchTool as FileSearchTool,
        FileSearchToolCall as FileSearchToolCall,
        FileSearchToolCallDelta as FileSearchToolCallDelta,
        FileSearchToolOptions as FileSearchToolOptions,
        FunctionCall as FunctionCall,
        FunctionCallDelta as FunctionCallDelta,
        FunctionDefinition as FunctionDefinition,
        FunctionTool as FunctionTool,
        FunctionToolCall as FunctionToolCall,
        FunctionToolCallDelta as FunctionToolCallDelta,
        ImageFile as ImageFile,
        ImageFileContentBlock as ImageFileContentBlock,
        ImageFileDelta as ImageFileDelta,
        ImageFileDeltaBlock as ImageFileDeltaBlock,
        ImageURL as ImageURL,
        ImageURLContentBlock as ImageURLContentBlock,
        ImageURLDelta as ImageURLDelta,
        ImageURLDeltaBlock as ImageURLDeltaBlock,
        IncompleteDetails as IncompleteDetails,
        LastError as LastError,
        Message as Message,
        MessageContent as MessageContent,
        MessageContentDelta as MessageContentDelta,
        MessageCreation as MessageCreation,
        MessageCreationStepDetails as MessageCreationStepDetails,
        MessageCreationStepDetailsDelta as MessageCreationStepDetailsDelta,
        MessageDelta as MessageDelta,
        MessageDeltaEvent as MessageDeltaEvent,
        RefusalContentBlock as RefusalContentBlock,
        RefusalDeltaBlock as RefusalDeltaBlock,
        RequiredAction as RequiredAction,
        RequiredActionFunction as RequiredActionFunction,
        RequiredActionFunctionToolCall as RequiredActionFunctionToolCall,
        RequiredActionSubmitToolOutputs as RequiredActionSubmitToolOutputs,
        ResponseFormat as ResponseFormat,
        ResponseFormatJSONSchema as ResponseFormatJSONSchema,
        Run as Run,
        RunStep as RunStep,
        RunStepDelta as RunStepDelta,
        RunStepDeltaEvent as RunStepDeltaEvent,
        StepDetails as StepDetails,
        StepDetailsDelta as StepDetailsDelta,
        Text as Text,
        TextBuffer as TextBuffer,
        TextContentBlock as TextContentBlock,
        TextDelta as TextDelta,
        TextDeltaBlock as TextDeltaBlock,
        Thread as Thread,
        Tool as Tool,
        ToolCall as ToolCall,
        ToolCallDelta as ToolCallDelta,
        ToolCallsStepDetails as ToolCallsStepDetails,
        ToolCallsStepDetailsDelta as ToolCallsStepDetailsDelta,
        ToolChoice as ToolChoice,
        ToolChoiceFunction as ToolChoiceFunction,
        ToolResources as ToolResources,
        TruncationStrategy as TruncationStrategy,
        UnknownAnnotation as UnknownAnnotation,
        UnknownAnnotationDelta as UnknownAnnotationDelta,
        UnknownCodeInterpreterOutput as UnknownCodeInterpreterOutput,
        UnknownCodeInterpreterOutputDelta as UnknownCodeInterpreterOutputDelta,
        UnknownContentBlock as UnknownContentBlock,
        UnknownContentDelta as UnknownContentDelta,
        UnknownStepDetails as UnknownStepDetails,
        UnknownStepDetailsDelta as UnknownStepDetailsDelta,
        UnknownTool as UnknownTool,
        UnknownToolCall as UnknownToolCall,
        UnknownToolCallDelta as UnknownToolCallDelta,
        Usage as Usage,
    )
    from ._recover import (
        RecoveredRun as RecoveredRun,
    )
    from ._requests import (
        NOT_GIVEN as NOT_GIVEN,
        AttachmentParam as AttachmentParam,
        AttachmentToolParam as AttachmentToolParam,
        AutoChunkingStrategyParam as AutoChunkingStrategyParam,
        ChunkingStrategyParam as ChunkingStrategyParam,
        CodeInterpreterResourceParam as CodeInterpreterResourceParam,
        CodeInterpreterToolParam as CodeInterpreterToolParam,
        ContentPartParam as ContentPartParam,
        FileSearchOptionsParam as FileSearchOptionsParam,
        FileSearchResourceParam as FileSearchResourceParam,
        FileSearchToolParam as FileSearchToolParam,
        FunctionDefinitionParam as FunctionDefinitionParam,
        FunctionToolParam as FunctionToolParam,
        ImageDetail as ImageDetail,
        ImageFileParam as ImageFileParam,
        ImageFilePartParam as ImageFilePartParam,
        ImageURLParam as ImageURLParam,
        ImageURLPartParam as ImageURLPartParam,
        JSONSchemaParam as JSONSchemaParam,
        MessageParam as MessageParam,
        NotGiven as NotGiven,
        RankingOptionsParam as RankingOptionsParam,
        ReasoningEffort as ReasoningEffort,
        ResponseFormatParam as ResponseFormatParam,
        RunCreateParams as RunCreateParams,
        StaticChunkingParam as StaticChunkingParam,
        StaticChunkingStrategyParam as StaticChunkingStrategyParam,
        SubmitToolOutputsParams as SubmitToolOutputsParams,
        TextPartParam as TextPartParam,
        ThreadCreateAndRunParams as ThreadCreateAndRunParams,
        ThreadFileSearchResourceParam as ThreadFileSearchResourceParam,
        ThreadParams as ThreadParams,
        ThreadToolResourcesParam as ThreadToolResourcesParam,
        ToolChoiceFunctionParam as ToolChoiceFunctionParam,
        ToolChoiceMode as ToolChoiceMode,
        ToolChoiceParam as ToolChoiceParam,
        ToolOutput as ToolOutput,
        ToolParam as ToolParam,
        ToolResourcesParam as ToolResourcesParam,
        TruncationStrategyParam as TruncationStrategyParam,
        VectorStoreParam as VectorStoreParam,
        validate_include as validate_include,
    )
    from ._response_stream import (
        RecoveredResponse as RecoveredResponse,
        ResponseStream as ResponseStream,
    )
    from ._responses_client import (
        Responses as Responses,
    )
    from ._responses_events import (
        RESPONSE_EVENT_CLASSES as RESPONSE_EVENT_CLASSES,
        RESPONSES_TERMINAL_EVENTS as RESPONSES_TERMINAL_EVENTS,
        ResponseCancelledEvent as ResponseCancelledEvent,
        ResponseCodeInterpreterCallCodeDeltaEvent as ResponseCodeInterpreterCallCodeDeltaEvent,
        ResponseCodeInterpreterCallCodeDoneEvent as ResponseCodeInterpreterCallCodeDoneEvent,
        ResponseCompletedEvent as ResponseCompletedEvent,
        ResponseContentPartAddedEvent as ResponseContentPartAddedEvent,
        ResponseContentPartDoneEvent as ResponseContentPartDoneEvent,
        ResponseCreatedEvent as ResponseCreatedEvent,
        ResponseErrorEvent as ResponseErrorEvent,
        ResponseEvent as ResponseEvent,
        ResponseFailedEvent as ResponseFailedEvent,
        ResponseFunctionCallArgumentsDeltaEvent as ResponseFunctionCallArgumentsDeltaEvent,
        ResponseFunctionCallArgumentsDoneEvent as ResponseFunctionCallArgumentsDoneEvent,
        ResponseIncompleteEvent as ResponseIncompleteEvent,
        ResponseInProgressEvent as ResponseInProgressEvent,
        ResponseLifecycleEvent as ResponseLifecycleEvent,
        ResponseOutputItemAddedEvent as ResponseOutputItemAddedEvent,
        ResponseOutputItemDoneEvent as ResponseOutputItemDoneEvent,
        ResponseOutputTextAnnotationAddedEvent as ResponseOutputTextAnnotationAddedEvent,
        ResponseOutputTextDeltaEvent as ResponseOutputTextDeltaEvent,
        ResponseOutputTextDoneEvent as ResponseOutputTextDoneEvent,
        ResponseQueuedEvent as ResponseQueuedEvent,
        ResponseReasoningSummaryPartAddedEvent as ResponseReasoningSummaryPartAddedEvent,
        ResponseReasoningSummaryPartDoneEvent as ResponseReasoningSummaryPartDoneEvent,
        ResponseReasoningSummaryTextDeltaEvent as ResponseReasoningSummaryTextDeltaEvent,
        ResponseReasoningSummaryTextDoneEvent as ResponseReasoningSummaryTextDoneEvent,
        ResponseReasoningTextDeltaEvent as ResponseReasoningTextDeltaEvent,
        ResponseReasoningTextDoneEvent as ResponseReasoningTextDoneEvent,
        ResponseRefusalDeltaEvent as ResponseRefusalDeltaEvent,
        ResponseRefusalDoneEvent as ResponseRefusalDoneEvent,
        ResponseToolCallProgressEvent as ResponseToolCallProgressEvent,
        UnknownResponseEvent as UnknownResponseEvent,
        is_terminal_responses_event as is_terminal_responses_event,
        parse_responses_event as parse_responses_event,
    )
    from ._responses_map import (
        ResponsesMapper as ResponsesMapper,
    )
    from ._responses_models import (
        ResponseCodeInterpreterCall as ResponseCodeInterpreterCall,
        ResponseContentPart as ResponseContentPart,
        ResponseError as ResponseError,
        ResponseFileCitation as ResponseFileCitation,
        ResponseFilePath as ResponseFilePath,
        ResponseFileSearchCall as ResponseFileSearchCall,
        ResponseFunctionCall as ResponseFunctionCall,
        ResponseIncompleteDetails as ResponseIncompleteDetails,
        ResponseObject as ResponseObject,
        ResponseOutputItem as ResponseOutputItem,
        ResponseOutputMessage as ResponseOutputMessage,
        ResponseOutputText as ResponseOutputText,
        ResponseReasoningItem as ResponseReasoningItem,
        ResponseRefusal as ResponseRefusal,
        ResponseTextAnnotation as ResponseTextAnnotation,
        ResponseURLCitation as ResponseURLCitation,
        ResponseUsage as ResponseUsage,
        ResponseWebSearchCall as ResponseWebSearchCall,
        UnknownResponseAnnotation as UnknownResponseAnnotation,
        UnknownResponseContentPart as UnknownResponseContentPart,
        UnknownResponseOutputItem as UnknownResponseOutputItem,
    )
    from ._responses_requests import (
        ResponseCreateParams as ResponseCreateParams,
    )
    from ._stream import (
        RunStream as RunStream,
    )
    from ._transport import (
        Timeouts as Timeouts,
    )
    from .sse import (
        ServerSentEvent as ServerSentEvent,
        SSEDecoder as SSEDecoder,
    )

# Where each public name lives at run time (imported on first access).
_EXPORTS: dict[str, str] = {
    "._client": "AsyncClient Messages Runs Threads",
    "._conversation": "Conversation",
    "._events": (
        "TERMINAL_RUN_EVENTS DoneEvent ErrorEvent Event MessageEvent RunEvent RunStepEvent "
        "ThreadCreated ThreadMessageCompleted ThreadMessageCreated ThreadMessageDelta "
        "ThreadMessageIncomplete ThreadMessageInProgress ThreadRunCancelled "
        "ThreadRunCancelling ThreadRunCompleted ThreadRunCreated ThreadRunExpired "
        "ThreadRunFailed ThreadRunIncomplete ThreadRunInProgress ThreadRunQueued "
        "ThreadRunRequiresAction ThreadRunStepCancelled ThreadRunStepCompleted "
        "ThreadRunStepCreated ThreadRunStepDelta ThreadRunStepExpired ThreadRunStepFailed "
        "ThreadRunStepInProgress UnknownEvent parse_event"
    ),
    "._exceptions": (
        "APIConnectionError APIStatusError AuthenticationError BadRequestError ConflictError "
        "EventTooLargeError InternalServerError NotFoundError PermissionDeniedError "
        "ProtocolError RateLimitError ResponseTooLargeError StreamConsumedError StreamError "
        "StreamFailure StreamInterrupted StreamrunError StreamTimeout ToolLoopError "
        "UnprocessableEntityError "
        "ValidationError"
    ),
    "._function_tool": "ArgumentsError function_tool",
    "._handler": "AsyncEventHandler",
    "._models": (
        "Annotation AnnotationDelta Attachment AttachmentTool CodeInterpreter "
        "CodeInterpreterDelta CodeInterpreterImage CodeInterpreterImageDelta "
        "CodeInterpreterImageFile CodeInterpreterLogs CodeInterpreterLogsDelta "
        "CodeInterpreterOutput CodeInterpreterOutputDelta CodeInterpreterResources "
        "CodeInterpreterTool CodeInterpreterToolCall CodeInterpreterToolCallDelta ErrorObject "
        "FileCitation FileCitationAnnotation FileCitationDeltaAnnotation FilePath "
        "FilePathAnnotation FilePathDeltaAnnotation FileSearch FileSearchRankingOptions "
        "FileSearchResources FileSearchResult FileSearchResultContent FileSearchTool "
        "FileSearchToolCall FileSearchToolCallDelta FileSearchToolOptions FunctionCall "
        "FunctionCallDelta FunctionDefinition FunctionTool FunctionToolCall "
        "FunctionToolCallDelta ImageFile ImageFileContentBlock ImageFileDelta "
        "ImageFileDeltaBlock ImageURL ImageURLContentBlock ImageURLDelta ImageURLDeltaBlock "
        "IncompleteDetails LastError Message MessageContent MessageContentDelta "
        "MessageCreation MessageCreationStepDetails MessageCreationStepDetailsDelta "
        "MessageDelta MessageDeltaEvent RefusalContentBlock RefusalDeltaBlock RequiredAction "
        "RequiredActionFunction RequiredActionFunctionToolCall "
        "RequiredActionSubmitToolOutputs ResponseFormat ResponseFormatJSONSchema Run RunStep "
        "RunStepDelta RunStepDeltaEvent StepDetails StepDetailsDelta Text TextBuffer "
        "TextContentBlock TextDelta TextDeltaBlock Thread Tool ToolCall ToolCallDelta "
        "ToolCallsStepDetails ToolCallsStepDetailsDelta ToolChoice ToolChoiceFunction "
        "ToolResources TruncationStrategy UnknownAnnotation UnknownAnnotationDelta "
        "UnknownCodeInterpreterOutput UnknownCodeInterpreterOutputDelta UnknownContentBlock "
        "UnknownContentDelta UnknownStepDetails UnknownStepDetailsDelta UnknownTool "
        "UnknownToolCall UnknownToolCallDelta Usage"
    ),
    "._recover": "RecoveredRun",
    "._requests": (
        "NOT_GIVEN AttachmentParam AttachmentToolParam AutoChunkingStrategyParam "
        "ChunkingStrategyParam CodeInterpreterResourceParam CodeInterpreterToolParam "
        "ContentPartParam FileSearchOptionsParam FileSearchResourceParam FileSearchToolParam "
        "FunctionDefinitionParam FunctionToolParam ImageDetail ImageFileParam "
        "ImageFilePartParam ImageURLParam ImageURLPartParam JSONSchemaParam MessageParam "
        "NotGiven RankingOptionsParam ReasoningEffort ResponseFormatParam RunCreateParams "
        "StaticChunkingParam StaticChunkingStrategyParam SubmitToolOutputsParams "
        "TextPartParam ThreadCreateAndRunParams ThreadFileSearchResourceParam ThreadParams "
        "ThreadToolResourcesParam ToolChoiceFunctionParam ToolChoiceMode ToolChoiceParam "
        "ToolOutput ToolParam ToolResourcesParam TruncationStrategyParam VectorStoreParam "
        "validate_include"
    ),
    "._response_stream": "RecoveredResponse ResponseStream",
    "._responses_client": "Responses",
    "._responses_events": (
        "RESPONSES_TERMINAL_EVENTS RESPONSE_EVENT_CLASSES ResponseCancelledEvent "
        "ResponseCodeInterpreterCallCodeDeltaEvent "
        "ResponseCodeInterpreterCallCodeDoneEvent ResponseCompletedEvent "
        "ResponseContentPartAddedEvent ResponseContentPartDoneEvent ResponseCreatedEvent "
        "ResponseErrorEvent ResponseEvent ResponseFailedEvent "
        "ResponseFunctionCallArgumentsDeltaEvent ResponseFunctionCallArgumentsDoneEvent "
        "ResponseInProgressEvent ResponseIncompleteEvent ResponseLifecycleEvent "
        "ResponseOutputItemAddedEvent ResponseOutputItemDoneEvent "
        "ResponseOutputTextAnnotationAddedEvent ResponseOutputTextDeltaEvent "
        "ResponseOutputTextDoneEvent ResponseQueuedEvent "
        "ResponseReasoningSummaryPartAddedEvent ResponseReasoningSummaryPartDoneEvent "
        "ResponseReasoningSummaryTextDeltaEvent ResponseReasoningSummaryTextDoneEvent "
        "ResponseReasoningTextDeltaEvent ResponseReasoningTextDoneEvent "
        "ResponseRefusalDeltaEvent ResponseRefusalDoneEvent ResponseToolCallProgressEvent "
        "UnknownResponseEvent is_terminal_responses_event parse_responses_event"
    ),
    "._responses_map": "ResponsesMapper",
    "._responses_models": (
        "ResponseCodeInterpreterCall ResponseContentPart ResponseError "
        "ResponseFileCitation ResponseFilePath ResponseFileSearchCall "
        "ResponseFunctionCall ResponseIncompleteDetails ResponseObject ResponseOutputItem "
        "ResponseOutputMessage ResponseOutputText ResponseReasoningItem ResponseRefusal "
        "ResponseTextAnnotation ResponseURLCitation ResponseUsage ResponseWebSearchCall "
        "UnknownResponseAnnotation UnknownResponseContentPart UnknownResponseOutputItem"
    ),
    "._responses_requests": "ResponseCreateParams",
    "._stream": "RunStream",
    "._transport": "Timeouts",
    ".sse": "ServerSentEvent SSEDecoder",
}
_MODULE_OF = {name: module for module, names in _EXPORTS.items() for name in names.split()}


if not typing.TYPE_CHECKING:  # type checkers see the imports above, never a catch-all

    def __getattr__(name: str) -> typing.Any:
        module = _MODULE_OF.get(name)
        if module is None:
            raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
        value = getattr(importlib.import_module(module, __name__), name)
        globals()[name] = value  # later lookups skip this function
        return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))


__all__ = [
    "APIConnectionError",
    "APIStatusError",
    "Annotation",
    "AnnotationDelta",
    "ArgumentsError",
    "AsyncClient",
    "AsyncEventHandler",
    "Attachment",
    "AttachmentParam",
    "AttachmentTool",
    "AttachmentToolParam",
    "AuthenticationError",
    "AutoChunkingStrategyParam",
    "BadRequestError",
    "ChunkingStrategyParam",
    "CodeInterpreter",
    "CodeInterpreterDelta",
    "CodeInterpreterImage",
    "CodeInterpreterImageDelta",
    "CodeInterpreterImageFile",
    "CodeInterpreterLogs",
    "CodeInterpreterLogsDelta",
    "CodeInterpreterOutput",
    "CodeInterpreterOutputDelta",
    "CodeInterpreterResourceParam",
    "CodeInterpreterResources",
    "CodeInterpreterTool",
    "CodeInterpreterToolCall",
    "CodeInterpreterToolCallDelta",
    "CodeInterpreterToolParam",
    "ConflictError",
    "ContentPartParam",
    "Conversation",
    "DoneEvent",
    "ErrorEvent",
    "ErrorObject",
    "Event",
    "EventTooLargeError",
    "FileCitation",
    "FileCitationAnnotation",
    "FileCitationDeltaAnnotation",
    "FilePath",
    "FilePathAnnotation",
    "FilePathDeltaAnnotation",
    "FileSearch",
    "FileSearchOptionsParam",
    "FileSearchRankingOptions",
    "FileSearchResourceParam",
    "FileSearchResources",
    "FileSearchResult",
    "FileSearchResultContent",
    "FileSearchTool",
    "FileSearchToolCall",
    "FileSearchToolCallDelta",
    "FileSearchToolOptions",
    "FileSearchToolParam",
    "FunctionCall",
    "FunctionCallDelta",
    "FunctionDefinition",
    "FunctionDefinitionParam",
    "FunctionTool",
    "FunctionToolCall",
    "FunctionToolCallDelta",
    "FunctionToolParam",
    "ImageDetail",
    "ImageFile",
    "ImageFileContentBlock",
    "ImageFileDelta",
    "ImageFileDeltaBlock",
    "ImageFileParam",
    "ImageFilePartParam",
    "ImageURL",
    "ImageURLContentBlock",
    "ImageURLDelta",
    "ImageURLDeltaBlock",
    "ImageURLParam",
    "ImageURLPartParam",
    "IncompleteDetails",
    "InternalServerError",
    "JSONSchemaParam",
    "LastError",
    "Message",
    "MessageContent",
    "MessageContentDelta",
    "MessageCreation",
    "MessageCreationStepDetails",
    "MessageCreationStepDetailsDelta",
    "MessageDelta",
    "MessageDeltaEvent",
    "MessageEvent",
    "MessageParam",
    "Messages",
    "NOT_GIVEN",
    "NotFoundError",
    "NotGiven",
    "PermissionDeniedError",
    "ProtocolError",
    "RESPONSES_TERMINAL_EVENTS",
    "RESPONSE_EVENT_CLASSES",
    "RankingOptionsParam",
    "RateLimitError",
    "ReasoningEffort",
    "RecoveredResponse",
    "RecoveredRun",
    "RefusalContentBlock",
    "RefusalDeltaBlock",
    "RequiredAction",
    "RequiredActionFunction",
    "RequiredActionFunctionToolCall",
    "RequiredActionSubmitToolOutputs",
    "ResponseCancelledEvent",
    "ResponseCodeInterpreterCall",
    "ResponseCodeInterpreterCallCodeDeltaEvent",
    "ResponseCodeInterpreterCallCodeDoneEvent",
    "ResponseCompletedEvent",
    "ResponseContentPart",
    "ResponseContentPartAddedEvent",
    "ResponseContentPartDoneEvent",
    "ResponseCreateParams",
    "ResponseCreatedEvent",
    "ResponseError",
    "ResponseErrorEvent",
    "ResponseEvent",
    "ResponseFailedEvent",
    "ResponseFileCitation",
    "ResponseFilePath",
    "ResponseFileSearchCall",
    "ResponseFormat",
    "ResponseFormatJSONSchema",
    "ResponseFormatParam",
    "ResponseFunctionCall",
    "ResponseFunctionCallArgumentsDeltaEvent",
    "ResponseFunctionCallArgumentsDoneEvent",
    "ResponseInProgressEvent",
    "ResponseIncompleteDetails",
    "ResponseIncompleteEvent",
    "ResponseLifecycleEvent",
    "ResponseObject",
    "ResponseOutputItem",
    "ResponseOutputItemAddedEvent",
    "ResponseOutputItemDoneEvent",
    "ResponseOutputMessage",
    "ResponseOutputText",
    "ResponseOutputTextAnnotationAddedEvent",
    "ResponseOutputTextDeltaEvent",
    "ResponseOutputTextDoneEvent",
    "ResponseQueuedEvent",
    "ResponseReasoningItem",
    "ResponseReasoningSummaryPartAddedEvent",
    "ResponseReasoningSummaryPartDoneEvent",
    "ResponseReasoningSummaryTextDeltaEvent",
    "ResponseReasoningSummaryTextDoneEvent",
    "ResponseReasoningTextDeltaEvent",
    "ResponseReasoningTextDoneEvent",
    "ResponseRefusal",
    "ResponseRefusalDeltaEvent",
    "ResponseRefusalDoneEvent",
    "ResponseStream",
    "ResponseTextAnnotation",
    "ResponseTooLargeError",
    "ResponseToolCallProgressEvent",
    "ResponseURLCitation",
    "ResponseUsage",
    "ResponseWebSearchCall",
    "Responses",
    "ResponsesMapper",
    "Run",
    "RunCreateParams",
    "RunEvent",
    "RunStep",
    "RunStepDelta",
    "RunStepDeltaEvent",
    "RunStepEvent",
    "RunStream",
    "Runs",
    "SSEDecoder",
    "ServerSentEvent",
    "StaticChunkingParam",
    "StaticChunkingStrategyParam",
    "StepDetails",
    "StepDetailsDelta",
    "StreamConsumedError",
    "StreamError",
    "StreamFailure",
    "StreamInterrupted",
    "StreamTimeout",
    "StreamrunError",
    "SubmitToolOutputsParams",
    "TERMINAL_RUN_EVENTS",
    "Text",
    "TextBuffer",
    "TextContentBlock",
    "TextDelta",
    "TextDeltaBlock",
    "TextPartParam",
    "Thread",
    "ThreadCreateAndRunParams",
    "ThreadCreated",
    "ThreadFileSearchResourceParam",
    "ThreadMessageCompleted",
    "ThreadMessageCreated",
    "ThreadMessageDelta",
    "ThreadMessageInProgress",
    "ThreadMessageIncomplete",
    "ThreadParams",
    "ThreadRunCancelled",
    "ThreadRunCancelling",
    "ThreadRunCompleted",
    "ThreadRunCreated",
    "ThreadRunExpired",
    "ThreadRunFailed",
    "ThreadRunInProgress",
    "ThreadRunIncomplete",
    "ThreadRunQueued",
    "ThreadRunRequiresAction",
    "ThreadRunStepCancelled",
    "ThreadRunStepCompleted",
    "ThreadRunStepCreated",
    "ThreadRunStepDelta",
    "ThreadRunStepExpired",
    "ThreadRunStepFailed",
    "ThreadRunStepInProgress",
    "ThreadToolResourcesParam",
    "Threads",
    "Timeouts",
    "Tool",
    "ToolCall",
    "ToolCallDelta",
    "ToolCallsStepDetails",
    "ToolCallsStepDetailsDelta",
    "ToolChoice",
    "ToolChoiceFunction",
    "ToolChoiceFunctionParam",
    "ToolChoiceMode",
    "ToolChoiceParam",
    "ToolLoopError",
    "ToolOutput",
    "ToolParam",
    "ToolResources",
    "ToolResourcesParam",
    "TruncationStrategy",
    "TruncationStrategyParam",
    "UnknownAnnotation",
    "UnknownAnnotationDelta",
    "UnknownCodeInterpreterOutput",
    "UnknownCodeInterpreterOutputDelta",
    "UnknownContentBlock",
    "UnknownContentDelta",
    "UnknownEvent",
    "UnknownResponseAnnotation",
    "UnknownResponseContentPart",
    "UnknownResponseEvent",
    "UnknownResponseOutputItem",
    "UnknownStepDetails",
    "UnknownStepDetailsDelta",
    "UnknownTool",
    "UnknownToolCall",
    "UnknownToolCallDelta",
    "UnprocessableEntityError",
    "Usage",
    "ValidationError",
    "VectorStoreParam",
    "__version__",
    "function_tool",
    "is_terminal_responses_event",
    "parse_event",
    "parse_responses_event",
    "validate_include",
]
