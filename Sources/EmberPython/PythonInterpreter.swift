#if canImport(Glibc)
import Glibc
#endif
import Foundation
import Synchronization

/// The Python that runs TorchServe's worker, and where its `ts` package is.
public struct PythonInterpreter: Sendable, Equatable {
    /// A path, or a name looked up on `PATH`.
    public let executable: String
    /// The directory of the `ts` package it imports.
    public let tsPackageDirectory: String

    /// `python_executable` when set; otherwise the project's `.venv/bin/python` in the working
    /// directory if there is one (what `scripts/install-python-env.sh` makes); otherwise `python3`.
    public static func defaultExecutable(configured: String?, workingDirectory: String = FileManager.default.currentDirectoryPath)
        -> String
    {
        if let configured, !configured.isEmpty { return configured }
        let venv = workingDirectory + "/.venv/bin/python"
        return access(venv, X_OK) == 0 ? venv : "python3"
    }

    /// Asks `executable` where `ts` is, bounded by `timeout`. Blocking.
    public static func probe(_ executable: String, timeout: Duration = .seconds(60)) throws(PythonSetupError) -> PythonInterpreter {
        let script = "import os, ts.model_service_worker as w; print(os.path.dirname(os.path.dirname(w.__file__)))"
        let outcome: ChildProcess.Outcome
        do {
            outcome = try ChildProcess.run(
                arguments: [executable, "-c", script], environment: ProcessInfo.processInfo.environment, timeout: timeout)
        } catch {
            throw PythonSetupError(executable: executable, detail: "\(error)")
        }
        let lastLine = outcome.output.split(separator: "\n").last.map(String.init) ?? ""
        guard outcome.succeeded, lastLine.hasPrefix("/") else {
            let why = outcome.timedOut ? "it did not answer within \(timeout)" : "\(outcome.status): \(lastLine)"
            throw PythonSetupError(executable: executable, detail: why)
        }
        return PythonInterpreter(executable: executable, tsPackageDirectory: lastLine + "/ts")
    }
}

/// The interpreter cannot run TorchServe's worker: says how to fix it.
public struct PythonSetupError: Error, Sendable, CustomStringConvertible {
    public let executable: String
    public let detail: String

    public var description: String {
        "This archive has a Python handler, served by TorchServe's Python worker, but the interpreter "
            + "'\(executable)' cannot import TorchServe's 'ts' package (\(detail)). Install it into that "
            + "interpreter with '\(executable) -m pip install --no-deps torchserve==0.12.0' (it needs torch; "
            + "scripts/install-python-env.sh makes a .venv with both), or name another interpreter with "
            + "python_executable in config.properties (TS_PYTHON_EXECUTABLE with enable_envvars_config=true)."
    }
}
