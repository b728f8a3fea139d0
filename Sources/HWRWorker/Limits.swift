import CHwr

/// Every limit of a worker, in one place. Each over-limit request gets exactly one error reply,
/// except above `transportCapBytes`, where ZeroMQ disconnects the peer without a reply.
/// Image limits are the engine's: the worker passes `maxPixels` to it and never checks images itself.
/// The worker's worst-case memory is a formula of these values (README, "The ZeroMQ worker").
public struct Limits: Sendable {
    /// Largest request body, bytes (default 8 MiB); larger ones get IMAGE_TOO_LARGE.
    public var maxMessageBytes = 8 << 20
    /// Largest image, pixels, handed to the engine as `hwr_engine_options.max_pixels`; 0 (the
    /// default) is the engine's own limit, HWR_MAX_IMAGE_PIXELS. The engine can only lower it.
    public var maxPixels: Int64 = 0
    /// Most images in one RecognizeBatch request (default 256, at most HWR_MAX_BATCH).
    public var maxBatch = 256
    /// Most requests queued or being recognised before new ones get OVERLOADED (default 1024).
    public var maxQueue = 1024
    /// Most request bytes queued or being recognised before new ones get OVERLOADED (default 256 MiB).
    public var maxQueuedBytes = 256 << 20
    /// Decoded pixels one recognition thread may hold at once (default 16 images of
    /// HWR_MAX_IMAGE_PIXELS): a request's images go to the engine in calls of at most
    /// `imagesPerCall` images, so the worker holds at most `threads` times this many pixels.
    public var pixelBudget = 16 * Int64(HWR_MAX_IMAGE_PIXELS)
    /// Most routing frames before a request body (default 16: identities added by ROUTER sockets
    /// and brokers, and the empty delimiter of a REQ client).
    public var maxRoutingFrames = 16
    /// Largest routing frame, bytes (default 255, ZeroMQ's largest routing id).
    public var maxRoutingFrameBytes = 255
    /// Deadline of a recognition request that gives none (`Request.deadline_ms` 0), milliseconds
    /// from its receipt; 0 (the default): no limit. Past it the reply is DEADLINE_EXCEEDED.
    public var requestTimeoutMilliseconds: UInt32 = 0

    /// Defaults.
    public init() {}

    /// The image limit in force: `maxPixels`, or the engine's HWR_MAX_IMAGE_PIXELS when 0.
    public var effectiveMaxPixels: Int64 { maxPixels > 0 ? maxPixels : Int64(HWR_MAX_IMAGE_PIXELS) }

    /// Images per engine call that keep a thread within `pixelBudget` (1 to HWR_MAX_BATCH).
    public var imagesPerCall: Int { Int(min(Int64(HWR_MAX_BATCH), max(1, pixelBudget / effectiveMaxPixels))) }

    /// ZeroMQ's hard cap on one frame (ZMQ_MAXMSGSIZE): 8 times `maxMessageBytes`, so that every
    /// request between the limit and the cap still gets an IMAGE_TOO_LARGE reply.
    public var transportCapBytes: Int64 { Int64(maxMessageBytes) * 8 }
}
