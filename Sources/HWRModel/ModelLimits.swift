/// The bounds a model must respect. The loader (`Model.load(path:)`, `Model(fileData:)`) refuses a
/// file outside any of them with `ModelError.badFile`, so that a crafted file can never make the
/// host trap, allocate without bound or compute non-finite numbers. The shipped models (3 MB, inputs
/// 28 and 32 pixels high, at most 128 channels and 128 LSTM units, 83 characters, weights within ±94)
/// are far inside them.
public enum ModelLimits {
    /// Largest model file read, in bytes (64 MiB).
    public static let fileSize = 64 << 20
    /// Most weights (float32) a model may have: what `fileSize` can hold.
    public static let parameters = fileSize / 4
    /// Tallest network input, in pixels (a character model's side, a line model's height).
    public static let inputHeight = 128
    /// Widest fixed network input, in pixels (a character model's side; a line model takes any width).
    public static let inputWidth = 128
    /// The width a line model's layers are checked at: every layer must accept a line this narrow.
    public static let lineCheckWidth = 32
    /// Most layers in an architecture.
    public static let layers = 64
    /// Largest convolution kernel side (odd, from 1).
    public static let kernel = 15
    /// Most output channels of a convolution.
    public static let filters = 1024
    /// Most units of an LSTM direction or of a dense layer (so also most output classes).
    public static let units = 4096
    /// Most features per sequence step or per vector (H*C of a feature map turned into a sequence).
    public static let features = 1 << 17
    /// Most characters in a charset.
    public static let charset = units
    /// Largest magnitude of any weight. Trained weights, batch-norm statistics included, stay far
    /// below it (the shipped models' largest is a running variance of 93.5).
    public static let weightMagnitude: Float = 1e4
    /// Largest bound on any activation of an inference pass over inputs in [0, 1] (see
    /// `Model.activationBound`). Far below `Float.greatestFiniteMagnitude` (3.4e38), so that no sum of
    /// a forward pass can overflow to infinity, whatever the order of its additions.
    public static let activationMagnitude: Double = 1e30
}
