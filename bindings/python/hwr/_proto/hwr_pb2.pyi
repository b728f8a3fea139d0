from google.protobuf.internal import containers as _containers
from google.protobuf.internal import enum_type_wrapper as _enum_type_wrapper
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from typing import ClassVar as _ClassVar, Iterable as _Iterable, Mapping as _Mapping, Optional as _Optional, Union as _Union

BAD_REQUEST: StatusCode
DEADLINE_EXCEEDED: StatusCode
DECODE_FAILURE: StatusCode
DESCRIPTOR: _descriptor.FileDescriptor
ENCODING_AUTO: Encoding
GRAY8: Encoding
IMAGE_TOO_LARGE: StatusCode
INTERNAL: StatusCode
JPEG: Encoding
LEXICON_LINE: LexiconMode
LEXICON_WORDS: LexiconMode
MODE_AUTO: Mode
MODE_CHAR: Mode
MODE_LINE: Mode
MODE_PAGE: Mode
OK: StatusCode
OVERLOADED: StatusCode
PGM: Encoding
PNG: Encoding
SHUTTING_DOWN: StatusCode
UNSUPPORTED: StatusCode
WRONG_VERSION: StatusCode

class Alternative(_message.Message):
    __slots__ = ["score", "text"]
    SCORE_FIELD_NUMBER: _ClassVar[int]
    TEXT_FIELD_NUMBER: _ClassVar[int]
    score: float
    text: str
    def __init__(self, text: _Optional[str] = ..., score: _Optional[float] = ...) -> None: ...

class Box(_message.Message):
    __slots__ = ["height", "width", "x", "y"]
    HEIGHT_FIELD_NUMBER: _ClassVar[int]
    WIDTH_FIELD_NUMBER: _ClassVar[int]
    X_FIELD_NUMBER: _ClassVar[int]
    Y_FIELD_NUMBER: _ClassVar[int]
    height: int
    width: int
    x: int
    y: int
    def __init__(self, x: _Optional[int] = ..., y: _Optional[int] = ..., width: _Optional[int] = ..., height: _Optional[int] = ...) -> None: ...

class Character(_message.Message):
    __slots__ = ["p", "text"]
    P_FIELD_NUMBER: _ClassVar[int]
    TEXT_FIELD_NUMBER: _ClassVar[int]
    p: float
    text: str
    def __init__(self, text: _Optional[str] = ..., p: _Optional[float] = ...) -> None: ...

class DecodingOptions(_message.Message):
    __slots__ = ["alternatives", "beam_width", "charset", "lexicon", "lexicon_mode", "pattern", "reject_threshold", "top_k"]
    ALTERNATIVES_FIELD_NUMBER: _ClassVar[int]
    BEAM_WIDTH_FIELD_NUMBER: _ClassVar[int]
    CHARSET_FIELD_NUMBER: _ClassVar[int]
    LEXICON_FIELD_NUMBER: _ClassVar[int]
    LEXICON_MODE_FIELD_NUMBER: _ClassVar[int]
    PATTERN_FIELD_NUMBER: _ClassVar[int]
    REJECT_THRESHOLD_FIELD_NUMBER: _ClassVar[int]
    TOP_K_FIELD_NUMBER: _ClassVar[int]
    alternatives: int
    beam_width: int
    charset: str
    lexicon: _containers.RepeatedScalarFieldContainer[str]
    lexicon_mode: LexiconMode
    pattern: str
    reject_threshold: float
    top_k: int
    def __init__(self, top_k: _Optional[int] = ..., beam_width: _Optional[int] = ..., lexicon: _Optional[_Iterable[str]] = ..., charset: _Optional[str] = ..., pattern: _Optional[str] = ..., alternatives: _Optional[int] = ..., reject_threshold: _Optional[float] = ..., lexicon_mode: _Optional[_Union[LexiconMode, str]] = ...) -> None: ...

class HealthReply(_message.Message):
    __slots__ = ["serving"]
    SERVING_FIELD_NUMBER: _ClassVar[int]
    serving: bool
    def __init__(self, serving: bool = ...) -> None: ...

class HealthRequest(_message.Message):
    __slots__: list[str] = []
    def __init__(self) -> None: ...

class Image(_message.Message):
    __slots__ = ["data", "encoding", "height", "width"]
    DATA_FIELD_NUMBER: _ClassVar[int]
    ENCODING_FIELD_NUMBER: _ClassVar[int]
    HEIGHT_FIELD_NUMBER: _ClassVar[int]
    WIDTH_FIELD_NUMBER: _ClassVar[int]
    data: bytes
    encoding: Encoding
    height: int
    width: int
    def __init__(self, encoding: _Optional[_Union[Encoding, str]] = ..., data: _Optional[bytes] = ..., width: _Optional[int] = ..., height: _Optional[int] = ...) -> None: ...

class Line(_message.Message):
    __slots__ = ["box", "confidence", "text", "words"]
    BOX_FIELD_NUMBER: _ClassVar[int]
    CONFIDENCE_FIELD_NUMBER: _ClassVar[int]
    TEXT_FIELD_NUMBER: _ClassVar[int]
    WORDS_FIELD_NUMBER: _ClassVar[int]
    box: Box
    confidence: float
    text: str
    words: _containers.RepeatedCompositeFieldContainer[Word]
    def __init__(self, text: _Optional[str] = ..., confidence: _Optional[float] = ..., box: _Optional[_Union[Box, _Mapping]] = ..., words: _Optional[_Iterable[_Union[Word, _Mapping]]] = ...) -> None: ...

class ModelInfoReply(_message.Message):
    __slots__ = ["abi_version", "charset", "library_version", "line_model", "line_model_precision", "max_batch", "max_message_bytes", "max_pixels", "model_name", "model_precision", "model_version", "stats", "text_model", "text_model_precision"]
    ABI_VERSION_FIELD_NUMBER: _ClassVar[int]
    CHARSET_FIELD_NUMBER: _ClassVar[int]
    LIBRARY_VERSION_FIELD_NUMBER: _ClassVar[int]
    LINE_MODEL_FIELD_NUMBER: _ClassVar[int]
    LINE_MODEL_PRECISION_FIELD_NUMBER: _ClassVar[int]
    MAX_BATCH_FIELD_NUMBER: _ClassVar[int]
    MAX_MESSAGE_BYTES_FIELD_NUMBER: _ClassVar[int]
    MAX_PIXELS_FIELD_NUMBER: _ClassVar[int]
    MODEL_NAME_FIELD_NUMBER: _ClassVar[int]
    MODEL_PRECISION_FIELD_NUMBER: _ClassVar[int]
    MODEL_VERSION_FIELD_NUMBER: _ClassVar[int]
    STATS_FIELD_NUMBER: _ClassVar[int]
    TEXT_MODEL_FIELD_NUMBER: _ClassVar[int]
    TEXT_MODEL_PRECISION_FIELD_NUMBER: _ClassVar[int]
    abi_version: int
    charset: str
    library_version: str
    line_model: bool
    line_model_precision: str
    max_batch: int
    max_message_bytes: int
    max_pixels: int
    model_name: str
    model_precision: str
    model_version: str
    stats: Stats
    text_model: bool
    text_model_precision: str
    def __init__(self, model_name: _Optional[str] = ..., model_version: _Optional[str] = ..., charset: _Optional[str] = ..., line_model: bool = ..., library_version: _Optional[str] = ..., abi_version: _Optional[int] = ..., max_message_bytes: _Optional[int] = ..., max_pixels: _Optional[int] = ..., max_batch: _Optional[int] = ..., stats: _Optional[_Union[Stats, _Mapping]] = ..., text_model: bool = ..., model_precision: _Optional[str] = ..., line_model_precision: _Optional[str] = ..., text_model_precision: _Optional[str] = ...) -> None: ...

class ModelInfoRequest(_message.Message):
    __slots__: list[str] = []
    def __init__(self) -> None: ...

class Recognition(_message.Message):
    __slots__ = ["alternatives", "chars", "confidence", "lines", "message", "rejected", "status", "text"]
    ALTERNATIVES_FIELD_NUMBER: _ClassVar[int]
    CHARS_FIELD_NUMBER: _ClassVar[int]
    CONFIDENCE_FIELD_NUMBER: _ClassVar[int]
    LINES_FIELD_NUMBER: _ClassVar[int]
    MESSAGE_FIELD_NUMBER: _ClassVar[int]
    REJECTED_FIELD_NUMBER: _ClassVar[int]
    STATUS_FIELD_NUMBER: _ClassVar[int]
    TEXT_FIELD_NUMBER: _ClassVar[int]
    alternatives: _containers.RepeatedCompositeFieldContainer[Alternative]
    chars: _containers.RepeatedCompositeFieldContainer[Character]
    confidence: float
    lines: _containers.RepeatedCompositeFieldContainer[Line]
    message: str
    rejected: bool
    status: StatusCode
    text: str
    def __init__(self, status: _Optional[_Union[StatusCode, str]] = ..., message: _Optional[str] = ..., text: _Optional[str] = ..., confidence: _Optional[float] = ..., chars: _Optional[_Iterable[_Union[Character, _Mapping]]] = ..., alternatives: _Optional[_Iterable[_Union[Alternative, _Mapping]]] = ..., rejected: bool = ..., lines: _Optional[_Iterable[_Union[Line, _Mapping]]] = ...) -> None: ...

class RecognizeBatchReply(_message.Message):
    __slots__ = ["model_name", "model_version", "results"]
    MODEL_NAME_FIELD_NUMBER: _ClassVar[int]
    MODEL_VERSION_FIELD_NUMBER: _ClassVar[int]
    RESULTS_FIELD_NUMBER: _ClassVar[int]
    model_name: str
    model_version: str
    results: _containers.RepeatedCompositeFieldContainer[Recognition]
    def __init__(self, results: _Optional[_Iterable[_Union[Recognition, _Mapping]]] = ..., model_name: _Optional[str] = ..., model_version: _Optional[str] = ...) -> None: ...

class RecognizeBatchRequest(_message.Message):
    __slots__ = ["images", "mode", "options"]
    IMAGES_FIELD_NUMBER: _ClassVar[int]
    MODE_FIELD_NUMBER: _ClassVar[int]
    OPTIONS_FIELD_NUMBER: _ClassVar[int]
    images: _containers.RepeatedCompositeFieldContainer[Image]
    mode: Mode
    options: DecodingOptions
    def __init__(self, images: _Optional[_Iterable[_Union[Image, _Mapping]]] = ..., mode: _Optional[_Union[Mode, str]] = ..., options: _Optional[_Union[DecodingOptions, _Mapping]] = ...) -> None: ...

class RecognizeReply(_message.Message):
    __slots__ = ["model_name", "model_version", "result"]
    MODEL_NAME_FIELD_NUMBER: _ClassVar[int]
    MODEL_VERSION_FIELD_NUMBER: _ClassVar[int]
    RESULT_FIELD_NUMBER: _ClassVar[int]
    model_name: str
    model_version: str
    result: Recognition
    def __init__(self, result: _Optional[_Union[Recognition, _Mapping]] = ..., model_name: _Optional[str] = ..., model_version: _Optional[str] = ...) -> None: ...

class RecognizeRequest(_message.Message):
    __slots__ = ["image", "mode", "options"]
    IMAGE_FIELD_NUMBER: _ClassVar[int]
    MODE_FIELD_NUMBER: _ClassVar[int]
    OPTIONS_FIELD_NUMBER: _ClassVar[int]
    image: Image
    mode: Mode
    options: DecodingOptions
    def __init__(self, image: _Optional[_Union[Image, _Mapping]] = ..., mode: _Optional[_Union[Mode, str]] = ..., options: _Optional[_Union[DecodingOptions, _Mapping]] = ...) -> None: ...

class Reply(_message.Message):
    __slots__ = ["health", "message", "model_info", "protocol_version", "recognize", "recognize_batch", "request_id", "server_time_ms", "status"]
    HEALTH_FIELD_NUMBER: _ClassVar[int]
    MESSAGE_FIELD_NUMBER: _ClassVar[int]
    MODEL_INFO_FIELD_NUMBER: _ClassVar[int]
    PROTOCOL_VERSION_FIELD_NUMBER: _ClassVar[int]
    RECOGNIZE_BATCH_FIELD_NUMBER: _ClassVar[int]
    RECOGNIZE_FIELD_NUMBER: _ClassVar[int]
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    SERVER_TIME_MS_FIELD_NUMBER: _ClassVar[int]
    STATUS_FIELD_NUMBER: _ClassVar[int]
    health: HealthReply
    message: str
    model_info: ModelInfoReply
    protocol_version: int
    recognize: RecognizeReply
    recognize_batch: RecognizeBatchReply
    request_id: str
    server_time_ms: float
    status: StatusCode
    def __init__(self, protocol_version: _Optional[int] = ..., request_id: _Optional[str] = ..., status: _Optional[_Union[StatusCode, str]] = ..., message: _Optional[str] = ..., server_time_ms: _Optional[float] = ..., recognize: _Optional[_Union[RecognizeReply, _Mapping]] = ..., recognize_batch: _Optional[_Union[RecognizeBatchReply, _Mapping]] = ..., model_info: _Optional[_Union[ModelInfoReply, _Mapping]] = ..., health: _Optional[_Union[HealthReply, _Mapping]] = ...) -> None: ...

class Request(_message.Message):
    __slots__ = ["deadline_ms", "health", "model_info", "protocol_version", "recognize", "recognize_batch", "request_id"]
    DEADLINE_MS_FIELD_NUMBER: _ClassVar[int]
    HEALTH_FIELD_NUMBER: _ClassVar[int]
    MODEL_INFO_FIELD_NUMBER: _ClassVar[int]
    PROTOCOL_VERSION_FIELD_NUMBER: _ClassVar[int]
    RECOGNIZE_BATCH_FIELD_NUMBER: _ClassVar[int]
    RECOGNIZE_FIELD_NUMBER: _ClassVar[int]
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    deadline_ms: int
    health: HealthRequest
    model_info: ModelInfoRequest
    protocol_version: int
    recognize: RecognizeRequest
    recognize_batch: RecognizeBatchRequest
    request_id: str
    def __init__(self, protocol_version: _Optional[int] = ..., request_id: _Optional[str] = ..., recognize: _Optional[_Union[RecognizeRequest, _Mapping]] = ..., recognize_batch: _Optional[_Union[RecognizeBatchRequest, _Mapping]] = ..., model_info: _Optional[_Union[ModelInfoRequest, _Mapping]] = ..., health: _Optional[_Union[HealthRequest, _Mapping]] = ..., deadline_ms: _Optional[int] = ...) -> None: ...

class Stats(_message.Message):
    __slots__ = ["errors", "latency_p50_ms", "latency_p90_ms", "latency_p99_ms", "overloaded", "requests", "uptime_s"]
    ERRORS_FIELD_NUMBER: _ClassVar[int]
    LATENCY_P50_MS_FIELD_NUMBER: _ClassVar[int]
    LATENCY_P90_MS_FIELD_NUMBER: _ClassVar[int]
    LATENCY_P99_MS_FIELD_NUMBER: _ClassVar[int]
    OVERLOADED_FIELD_NUMBER: _ClassVar[int]
    REQUESTS_FIELD_NUMBER: _ClassVar[int]
    UPTIME_S_FIELD_NUMBER: _ClassVar[int]
    errors: int
    latency_p50_ms: float
    latency_p90_ms: float
    latency_p99_ms: float
    overloaded: int
    requests: int
    uptime_s: float
    def __init__(self, requests: _Optional[int] = ..., errors: _Optional[int] = ..., overloaded: _Optional[int] = ..., latency_p50_ms: _Optional[float] = ..., latency_p90_ms: _Optional[float] = ..., latency_p99_ms: _Optional[float] = ..., uptime_s: _Optional[float] = ...) -> None: ...

class Word(_message.Message):
    __slots__ = ["box", "confidence", "text"]
    BOX_FIELD_NUMBER: _ClassVar[int]
    CONFIDENCE_FIELD_NUMBER: _ClassVar[int]
    TEXT_FIELD_NUMBER: _ClassVar[int]
    box: Box
    confidence: float
    text: str
    def __init__(self, text: _Optional[str] = ..., confidence: _Optional[float] = ..., box: _Optional[_Union[Box, _Mapping]] = ...) -> None: ...

class StatusCode(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__: list[str] = []

class Encoding(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__: list[str] = []

class Mode(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__: list[str] = []

class LexiconMode(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__: list[str] = []
