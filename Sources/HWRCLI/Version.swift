import CHwr
import HWRModel
import HWRRecognition
import HWRWorker

/// What `hwr --version` prints: the command's version (HWR_VERSION_STRING of the hwr.h it was built
/// with), the libhwr.so the worker would load, and the default models, each with its precision and
/// where it was found.
enum VersionReport {
    static func lines() -> [String] {
        var lines = ["hwr \(HWR_VERSION_STRING)"]
        let library = EngineABI.defaultPath()
        do {
            let abi = try EngineABI(path: library)
            lines.append("libhwr \(abi.version) (ABI \(abi.abiVersion)) \(abi.path)")
        } catch {
            lines.append("libhwr: \(error)")
        }
        for (file, variable) in [(Recognizer.defaultModelFile, "HWR_MODEL"), (Recognizer.defaultLineModelFile, "HWR_LINE_MODEL"),
                                 (Recognizer.defaultTextModelFile, "HWR_TEXT_MODEL")] {
            guard let path = Recognizer.defaultPath(file: file, environment: variable) else {
                lines.append("\(file): not found (set \(variable), or install hwr)")
                continue
            }
            do {
                let model = try Model.load(path: path)
                lines.append("\(model.metadata.name) \(model.metadata.version) \(model.precision.rawValue) \(path)")
            } catch {
                lines.append("\(file): \(error)")
            }
        }
        return lines
    }
}
