import Foundation

/// The ink map of a whole page (a note, a form field, a sheet): the same staged preprocessing as a
/// character or a line (composite, polarity, illumination flattening, ruled-line, frame and speck
/// removal), at a working resolution, for layout analysis.
public struct PageInk: Sendable {
    /// Width and height of the map, in pixels of the working resolution.
    public let width: Int, height: Int
    /// Ink strength in [0, 1], row-major (`width * height`).
    public let ink: [Float]
    /// Estimated pen width, in pixels of the map.
    public let strokeWidth: Float
    /// Original pixels per map pixel (1 when the page was not shrunk).
    public let scale: Double
    /// Ink above this strength counts as a stroke when binarising.
    public static let strokeThreshold: Float = InkMap.cropThreshold

    /// Largest side of the working resolution: a page is shrunk to fit it before preprocessing
    /// (about 100 dpi for an A4 sheet; a line of writing stays 20 pixels or more high).
    public static let workingSide = 2400

    /// Preprocesses a page.
    /// - Throws: `ImageError.empty` when nothing is written on it, `.invalidArgument` when it is under
    ///   `ImageLimits.minimumSide` on a side.
    public init(_ image: GrayImage) throws {
        let fitted = image.fitted(maximumWidth: Self.workingSide, maximumHeight: Self.workingSide)
        var scratch = NormalizerScratch()
        strokeWidth = try InkMap.extract(fitted, scratch: &scratch)
        width = fitted.width; height = fitted.height
        ink = Array(scratch.ink.prefix(width * height))
        scale = Double(image.width) / Double(fitted.width)
    }
}
