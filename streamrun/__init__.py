"""streamrun: a fast, correct async client for OpenAI Assistants run streams.

See the README for a tour; every name below is documented where it is defined.
"""

from __future__ import annotations

from ._client import (
    AsyncClient as AsyncClient,
)
from ._client import (
    Runs as Runs,
)
from ._client import (
    Threads as Threads,
)
from ._events import (
    TERMINAL_RUN_EVENTS as TERMINAL_RUN_EVENTS,
)
from ._events import (
    DoneEvent as DoneEvent,
)
from ._events import (
    ErrorEvent as ErrorEvent,
)
from ._events import (
    Event as Event,
)
from ._events import (
    MessageEvent as MessageEvent,
)
from ._events import (
    RunEvent as RunEvent,
)
from ._events import (
    RunStepEvent as RunStepEvent,
)
from ._events import (
    ThreadCreated as ThreadCreated,
)
from ._events import (
    ThreadMessageCompleted as ThreadMessageCompleted,
)
from ._events import (
    ThreadMessageCreated as ThreadMessageCreated,
)
from ._events import (
    ThreadMessageDelta as ThreadMessageDelta,
)
from ._events import (
    ThreadMessageIncomplete as ThreadMessageIncomplete,
)
from ._events import (
    ThreadMessageInProgress as ThreadMessageInProgress,
)
from ._events import (
    ThreadRunCancelled as ThreadRunCancelled,
)
from ._events import (
    ThreadRunCancelling as ThreadRunCancelling,
)
from ._events import (
    ThreadRunCompleted as ThreadRunCompleted,
)
from ._events import (
    ThreadRunCreated as ThreadRunCreated,
)
from ._events import (
    ThreadRunExpired as ThreadRunExpired,
)
from ._events import (
    ThreadRunFailed as ThreadRunFailed,
)
from ._events import (
    ThreadRunIncomplete as ThreadRunIncomplete,
)
from ._events import (
    ThreadRunInProgress as ThreadRunInProgress,
)
from ._events import (
    ThreadRunQueued as ThreadRunQueued,
)
from ._events import (
    ThreadRunRequiresAction as ThreadRunRequiresAction,
)
from ._events import (
    ThreadRunStepCancelled as ThreadRunStepCancelled,
)
from ._events import (
    ThreadRunStepCompleted as ThreadRunStepCompleted,
)
from ._events import (
    ThreadRunStepCreated as ThreadRunStepCreated,
)
from ._events import (
    ThreadRunStepDelta as ThreadRunStepDelta,
)
from ._events import (
    ThreadRunStepExpired as ThreadRunStepExpired,
)
from ._events import (
    ThreadRunStepFailed as ThreadRunStepFailed,
)
from ._events import (
    ThreadRunStepInProgress as ThreadRunStepInProgress,
)
from ._events import (
    UnknownEvent as UnknownEvent,
)
from ._events import (
    parse_event as parse_event,
)
from ._exceptions import (
    APIConnectionError as APIConnectionError,
)
from ._exceptions import (
    APIStatusError as APIStatusError,
)
from ._exceptions import (
    AuthenticationError as AuthenticationError,
)
from ._exceptions import (
    BadRequestError as BadRequestError,
)
from ._exceptions import (
    ConflictError as ConflictError,
)
from ._exceptions import (
    EventTooLargeError as EventTooLargeError,
)
from ._exceptions import (
    InternalServerError as InternalServerError,
)
from ._exceptions import (
    NotFoundError as NotFoundError,
)
from ._exceptions import (
    PermissionDeniedError as PermissionDeniedError,
)
from ._exceptions import (
    ProtocolError as ProtocolError,
)
from ._exceptions import (
    RateLimitError as RateLimitError,
)
from ._exceptions import (
    StreamConsumedError as StreamConsumedError,
)
from ._exceptions import (
    StreamError as StreamError,
)
from ._exceptions import (
    StreamFailure as StreamFailure,
)
from ._exceptions import (
    StreamInterrupted as StreamInterrupted,
)
from ._exceptions import (
    StreamrunError as StreamrunError,
)
from ._exceptions import (
    StreamTimeout as StreamTimeout,
)
from ._exceptions import (
    UnprocessableEntityError as UnprocessableEntityError,
)
from ._exceptions import (
    ValidationError as ValidationError,
)
from ._handler import (
    AsyncEventHandler as AsyncEventHandler,
)
from ._models import (
    Annotation as Annotation,
)
from ._models import (
    AnnotationDelta as AnnotationDelta,
)
from ._models import (
    Attachment as Attachment,
)
from ._models import (
    AttachmentTool as AttachmentTool,
)
from ._models import (
    CodeInterpreter as CodeInterpreter,
)
from ._models import (
    CodeInterpreterDelta as CodeInterpreterDelta,
)
from ._models import (
    CodeInterpreterImage as CodeInterpreterImage,
)
from ._models import (
    CodeInterpreterImageDelta as CodeInterpreterImageDelta,
)
from ._models import (
    CodeInterpreterImageFile as CodeInterpreterImageFile,
)
from ._models import (
    CodeInterpreterLogs as CodeInterpreterLogs,
)
from ._models import (
    CodeInterpreterLogsDelta as CodeInterpreterLogsDelta,
)
from ._models import (
    CodeInterpreterOutput as CodeInterpreterOutput,
)
from ._models import (
    CodeInterpreterOutputDelta as CodeInterpreterOutputDelta,
)
from ._models import (
    CodeInterpreterResources as CodeInterpreterResources,
)
from ._models import (
    CodeInterpreterTool as CodeInterpreterTool,
)
from ._models import (
    CodeInterpreterToolCall as CodeInterpreterToolCall,
)
from ._models import (
    CodeInterpreterToolCallDelta as CodeInterpreterToolCallDelta,
)
from ._models import (
    ErrorObject as ErrorObject,
)
from ._models import (
    FileCitation as FileCitation,
)
from ._models import (
    FileCitationAnnotation as FileCitationAnnotation,
)
from ._models import (
    FileCitationDeltaAnnotation as FileCitationDeltaAnnotation,
)
from ._models import (
    FilePath as FilePath,
)
from ._models import (
    FilePathAnnotation as FilePathAnnotation,
)
from ._models import (
    FilePathDeltaAnnotation as FilePathDeltaAnnotation,
)
from ._models import (
    FileSearch as FileSearch,
)
from ._models import (
    FileSearchRankingOptions as FileSearchRankingOptions,
)
from ._models import (
    FileSearchResources as FileSearchResources,
)
from ._models import (
    FileSearchResult as FileSearchResult,
)
from ._models import (
    FileSearchResultContent as FileSearchResultContent,
)
from ._models import (
    FileSearchTool as FileSearchTool,
)
from ._models import (
    FileSearchToolCall as FileSearchToolCall,
)
from ._models import (
    FileSearchToolCallDelta as FileSearchToolCallDelta,
)
from ._models import (
    FileSearchToolOptions as FileSearchToolOptions,
)
from ._models import (
    FunctionCall as FunctionCall,
)
from ._models import (
    FunctionCallDelta as FunctionCallDelta,
)
from ._models import (
    FunctionDefinition as FunctionDefinition,
)
from ._models import (
    FunctionTool as FunctionTool,
)
from ._models import (
    FunctionToolCall as FunctionToolCall,
)
from ._models import (
    FunctionToolCallDelta as FunctionToolCallDelta,
)
from ._models import (
    ImageFile as ImageFile,
)
from ._models import (
    ImageFileContentBlock as ImageFileContentBlock,
)
from ._models import (
    ImageFileDelta as ImageFileDelta,
)
from ._models import (
    ImageFileDeltaBlock as ImageFileDeltaBlock,
)
from ._models import (
    ImageURL as ImageURL,
)
from ._models import (
    ImageURLContentBlock as ImageURLContentBlock,
)
from ._models import (
    ImageURLDelta as ImageURLDelta,
)
from ._models import (
    ImageURLDeltaBlock as ImageURLDeltaBlock,
)
from ._models import (
    IncompleteDetails as IncompleteDetails,
)
from ._models import (
    LastError as LastError,
)
from ._models import (
    Message as Message,
)
from ._models import (
    MessageContent as MessageContent,
)
from ._models import (
    MessageContentDelta as MessageContentDelta,
)
from ._models import (
    MessageCreation as MessageCreation,
)
from ._models import (
    MessageCreationStepDetails as MessageCreationStepDetails,
)
from ._models import (
    MessageCreationStepDetailsDelta as MessageCreationStepDetailsDelta,
)
from ._models import (
    MessageDelta as MessageDelta,
)
from ._models import (
    MessageDeltaEvent as MessageDeltaEvent,
)
from ._models import (
    RefusalContentBlock as RefusalContentBlock,
)
from ._models import (
    RefusalDeltaBlock as RefusalDeltaBlock,
)
from ._models import (
    RequiredAction as RequiredAction,
)
from ._models import (
    RequiredActionFunction as RequiredActionFunction,
)
from ._models import (
    RequiredActionFunctionToolCall as RequiredActionFunctionToolCall,
)
from ._models import (
    RequiredActionSubmitToolOutputs as RequiredActionSubmitToolOutputs,
)
from ._models import (
    ResponseFormat as ResponseFormat,
)
from ._models import (
    ResponseFormatJSONSchema as ResponseFormatJSONSchema,
)
from ._models import (
    Run as Run,
)
from ._models import (
    RunStep as RunStep,
)
from ._models import (
    RunStepDelta as RunStepDelta,
)
from ._models import (
    RunStepDeltaEvent as RunStepDeltaEvent,
)
from ._models import (
    StepDetails as StepDetails,
)
from ._models import (
    StepDetailsDelta as StepDetailsDelta,
)
from ._models import (
    Text as Text,
)
from ._models import (
    TextBuffer as TextBuffer,
)
from ._models import (
    TextContentBlock as TextContentBlock,
)
from ._models import (
    TextDelta as TextDelta,
)
from ._models import (
    TextDeltaBlock as TextDeltaBlock,
)
from ._models import (
    Thread as Thread,
)
from ._models import (
    Tool as Tool,
)
from ._models import (
    ToolCall as ToolCall,
)
from ._models import (
    ToolCallDelta as ToolCallDelta,
)
from ._models import (
    ToolCallsStepDetails as ToolCallsStepDetails,
)
from ._models import (
    ToolCallsStepDetailsDelta as ToolCallsStepDetailsDelta,
)
from ._models import (
    ToolChoice as ToolChoice,
)
from ._models import (
    ToolChoiceFunction as ToolChoiceFunction,
)
from ._models import (
    ToolResources as ToolResources,
)
from ._models import (
    TruncationStrategy as TruncationStrategy,
)
from ._models import (
    UnknownAnnotation as UnknownAnnotation,
)
from ._models import (
    UnknownAnnotationDelta as UnknownAnnotationDelta,
)
from ._models import (
    UnknownCodeInterpreterOutput as UnknownCodeInterpreterOutput,
)
from ._models import (
    UnknownCodeInterpreterOutputDelta as UnknownCodeInterpreterOutputDelta,
)
from ._models import (
    UnknownContentBlock as UnknownContentBlock,
)
from ._models import (
    UnknownContentDelta as UnknownContentDelta,
)
from ._models import (
    UnknownStepDetails as UnknownStepDetails,
)
from ._models import (
    UnknownStepDetailsDelta as UnknownStepDetailsDelta,
)
from ._models import (
    UnknownTool as UnknownTool,
)
from ._models import (
    UnknownToolCall as UnknownToolCall,
)
from ._models import (
    UnknownToolCallDelta as UnknownToolCallDelta,
)
from ._models import (
    Usage as Usage,
)
from ._recover import (
    RecoveredRun as RecoveredRun,
)
from ._requests import (
    NOT_GIVEN as NOT_GIVEN,
)
from ._requests import (
    AttachmentParam as AttachmentParam,
)
from ._requests import (
    AttachmentToolParam as AttachmentToolParam,
)
from ._requests import (
    AutoChunkingStrategyParam as AutoChunkingStrategyParam,
)
from ._requests import (
    ChunkingStrategyParam as ChunkingStrategyParam,
)
from ._requests import (
    CodeInterpreterResourceParam as CodeInterpreterResourceParam,
)
from ._requests import (
    CodeInterpreterToolParam as CodeInterpreterToolParam,
)
from ._requests import (
    ContentPartParam as ContentPartParam,
)
from ._requests import (
    FileSearchOptionsParam as FileSearchOptionsParam,
)
from ._requests import (
    FileSearchResourceParam as FileSearchResourceParam,
)
from ._requests import (
    FileSearchToolParam as FileSearchToolParam,
)
from ._requests import (
    FunctionDefinitionParam as FunctionDefinitionParam,
)
from ._requests import (
    FunctionToolParam as FunctionToolParam,
)
from ._requests import (
    ImageDetail as ImageDetail,
)
from ._requests import (
    ImageFileParam as ImageFileParam,
)
from ._requests import (
    ImageFilePartParam as ImageFilePartParam,
)
from ._requests import (
    ImageURLParam as ImageURLParam,
)
from ._requests import (
    ImageURLPartParam as ImageURLPartParam,
)
from ._requests import (
    JSONSchemaParam as JSONSchemaParam,
)
from ._requests import (
    MessageParam as MessageParam,
)
from ._requests import (
    NotGiven as NotGiven,
)
from ._requests import (
    RankingOptionsParam as RankingOptionsParam,
)
from ._requests import (
    ReasoningEffort as ReasoningEffort,
)
from ._requests import (
    ResponseFormatParam as ResponseFormatParam,
)
from ._requests import (
    RunCreateParams as RunCreateParams,
)
from ._requests import (
    StaticChunkingParam as StaticChunkingParam,
)
from ._requests import (
    StaticChunkingStrategyParam as StaticChunkingStrategyParam,
)
from ._requests import (
    SubmitToolOutputsParams as SubmitToolOutputsParams,
)
from ._requests import (
    TextPartParam as TextPartParam,
)
from ._requests import (
    ThreadCreateAndRunParams as ThreadCreateAndRunParams,
)
from ._requests import (
    ThreadFileSearchResourceParam as ThreadFileSearchResourceParam,
)
from ._requests import (
    ThreadParams as ThreadParams,
)
from ._requests import (
    ThreadToolResourcesParam as ThreadToolResourcesParam,
)
from ._requests import (
    ToolChoiceFunctionParam as ToolChoiceFunctionParam,
)
from ._requests import (
    ToolChoiceMode as ToolChoiceMode,
)
from ._requests import (
    ToolChoiceParam as ToolChoiceParam,
)
from ._requests import (
    ToolOutput as ToolOutput,
)
from ._requests import (
    ToolParam as ToolParam,
)
from ._requests import (
    ToolResourcesParam as ToolResourcesParam,
)
from ._requests import (
    TruncationStrategyParam as TruncationStrategyParam,
)
from ._requests import (
    VectorStoreParam as VectorStoreParam,
)
from ._requests import (
    validate_include as validate_include,
)
from ._stream import (
    RunStream as RunStream,
)
from ._transport import (
    Timeouts as Timeouts,
)
from ._version import __version__ as __version__
from .sse import (
    ServerSentEvent as ServerSentEvent,
)
from .sse import (
    SSEDecoder as SSEDecoder,
)

__all__ = [
    "APIConnectionError",
    "APIStatusError",
    "Annotation",
    "AnnotationDelta",
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
    "NOT_GIVEN",
    "NotFoundError",
    "NotGiven",
    "PermissionDeniedError",
    "ProtocolError",
    "RankingOptionsParam",
    "RateLimitError",
    "ReasoningEffort",
    "RecoveredRun",
    "RefusalContentBlock",
    "RefusalDeltaBlock",
    "RequiredAction",
    "RequiredActionFunction",
    "RequiredActionFunctionToolCall",
    "RequiredActionSubmitToolOutputs",
    "ResponseFormat",
    "ResponseFormatJSONSchema",
    "ResponseFormatParam",
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
    "parse_event",
    "validate_include",
]
