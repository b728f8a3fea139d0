import Foundation
import HWRModel

/// Random distortions applied to normalised images as they are fed to training: small rotations,
/// shifts, zoom, shear (one affine warp, bilinear), and stroke thickening or thinning.
public struct Augmenter: Sendable {
    /// Largest rotation in radians.
    public var rotation: Float = 12 * .pi / 180
    /// Largest shift in pixels.
    public var shift: Float = 2.5
    /// Largest relative zoom (0.12 = 88% to 112%).
    public var zoom: Float = 0.12
    /// Largest shear factor.
    public var shear: Float = 0.25
    /// Probability of changing the stroke thickness (half thicker, half thinner).
    public var thicknessProbability: Float = 0.3

    /// Default distortions.
    public init() {}

    /// Distorts one `side` x `side` image.
    /// - Parameters:
    ///   - out: `side * side` floats
    ///   - input: `side * side` floats in [0, 1]
    public func apply(_ out: UnsafeMutablePointer<Float>, _ input: UnsafePointer<Float>, side: Int,
                      random: inout SeededGenerator) {
        func uniform(_ r: Float) -> Float { (random.nextUniform() * 2 - 1) * r }
        let angle = uniform(rotation), s = 1 + uniform(zoom), sh = uniform(shear)
        let tx = uniform(shift), ty = uniform(shift)
        // Forward map A = R * Shear * s; sample the input at A^-1 (p - c - t) + c.
        let (ca, sa) = (cosf(angle), sinf(angle))
        let a = ca * s, b = (ca * sh - sa) * s, c = sa * s, d = (sa * sh + ca) * s
        let det = a * d - b * c
        let (ia, ib, ic, id) = (d / det, -b / det, -c / det, a / det)
        let centre = Float(side - 1) / 2
        for y in 0..<side {
            for x in 0..<side {
                let px = Float(x) - centre - tx, py = Float(y) - centre - ty
                let sx = ia * px + ib * py + centre, sy = ic * px + id * py + centre
                out[y * side + x] = bilinear(input, side: side, x: sx, y: sy)
            }
        }
        let p = random.nextUniform()
        if p < thicknessProbability / 2 {
            Self.morph(out, width: side, height: side, thicken: true)
        } else if p < thicknessProbability {
            Self.morph(out, width: side, height: side, thicken: false)
        }
    }

    private func bilinear(_ img: UnsafePointer<Float>, side: Int, x: Float, y: Float) -> Float {
        let x0 = Int(floorf(x)), y0 = Int(floorf(y))
        let fx = x - Float(x0), fy = y - Float(y0)
        func at(_ xx: Int, _ yy: Int) -> Float { xx < 0 || yy < 0 || xx >= side || yy >= side ? 0 : img[yy * side + xx] }
        return (at(x0, y0) * (1 - fx) + at(x0 + 1, y0) * fx) * (1 - fy) + (at(x0, y0 + 1) * (1 - fx) + at(x0 + 1, y0 + 1) * fx) * fy
    }

    /// Soft 4-neighbour dilation (thicken) or erosion (thin) of a `width` x `height` image, in place.
    static func morph(_ img: UnsafeMutablePointer<Float>, width: Int, height: Int, thicken: Bool) {
        let copy = Array(UnsafeBufferPointer(start: img, count: width * height))
        for y in 0..<height {
            for x in 0..<width {
                var extreme: Float = thicken ? 0 : 1
                for (dx, dy) in [(1, 0), (-1, 0), (0, 1), (0, -1)] {
                    let xx = x + dx, yy = y + dy
                    let v = xx < 0 || yy < 0 || xx >= width || yy >= height ? 0 : copy[yy * width + xx]
                    extreme = thicken ? max(extreme, v) : min(extreme, v)
                }
                let v = copy[y * width + x]
                img[y * width + x] = thicken ? max(v, 0.7 * extreme) : v * (0.4 + 0.6 * extreme)
            }
        }
    }
}
