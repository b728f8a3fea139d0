import ArgumentParser
import HWRRecognition

/// The model files of a command that recognises; each left out is found as the engine finds it
/// (`Recognizer.init`: the environment variable, then the installed or checked-out model).
struct ModelOptions: ParsableArguments {
    @Option(help: "Character model (default: $HWR_MODEL, the installed model, or models/hwr-char.hwrm).") var model: String?
    @Option(help: "Line model for codes: digits and upper-case letters (default: $HWR_LINE_MODEL, the installed model, or models/hwr-line.hwrm).") var lineModel: String?
    @Option(help: "Text-line model for free text: case, spaces, punctuation (default: $HWR_TEXT_MODEL, the installed model, or models/hwr-text.hwrm).") var textModel: String?

    /// An engine with these models.
    /// - Throws: `HWRError` as `Recognizer.init`.
    func recognizer(threads: Int) throws -> Recognizer {
        try Recognizer(modelPath: model, lineModelPath: lineModel, textModelPath: textModel, threads: threads)
    }
}
