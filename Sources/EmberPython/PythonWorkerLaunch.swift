import EmberCore
import Logging

/// Everything one Python worker process needs: what to run, where, and what to load.
struct PythonWorkerLaunch: Sendable {
    var interpreter: String
    /// TorchServe's installed `ts` package directory (for `configs/metrics.yaml`).
    var tsPackageDirectory: String
    var load: LoadRequest
    var environment: [String: String]
    var startupTimeout: Duration
    var maxResponseSize: Int
    var logger: Logger
    /// Receives each `[METRICS]` line the worker prints.
    var metricsLine: @Sendable (String) -> Void

    /// Runs `ts.model_service_worker` as TorchServe starts it, after asking the kernel to kill it
    /// when the thread that started it ends (the server died), and moving into the model directory.
    static let bootstrap = """
        import ctypes, os, runpy, signal, sys
        ctypes.CDLL(None).prctl(1, signal.SIGKILL)
        if os.getppid() != int(os.environ.pop("EMBER_PARENT_PID", "0")):
            sys.exit(1)
        os.chdir(os.environ.pop("EMBER_MODEL_DIR"))
        runpy.run_module("ts.model_service_worker", run_name="__main__", alter_sys=True)
        """

    func arguments(socketPath: String) -> [String] {
        [
            interpreter, "-c", Self.bootstrap, "--sock-type", "unix", "--sock-name", socketPath,
            "--metrics-config", tsPackageDirectory + "/configs/metrics.yaml",
        ]
    }

    func processEnvironment(parent: Int32) -> [String: String] {
        var variables = environment
        let modelDirectory = load.modelPath
        variables["PYTHONPATH"] = [modelDirectory, environment["PYTHONPATH"]].compactMap { $0 }.joined(separator: ":")
        variables["PYTHONUNBUFFERED"] = "1"
        variables["EMBER_PARENT_PID"] = String(parent)
        variables["EMBER_MODEL_DIR"] = modelDirectory
        return variables
    }
}
