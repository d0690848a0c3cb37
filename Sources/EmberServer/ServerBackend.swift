import EmberCore
import EmberPython
import EmberTorch
import Logging

/// The backend `ember` and the tests serve with: declarative archives through libtorch in-process,
/// Python-handler archives through TorchServe's Python workers (their `[METRICS]` into `metrics`).
/// `pythonExecutable` overrides the configuration's interpreter (the tests use the project's .venv).
public func serverBackend(
    configuration: ServerConfiguration, metrics: ServerMetrics, logger: Logger, pythonExecutable: String? = nil
) -> any InferenceBackend {
    let reserved: Set<String> = [
        ServerMetrics.handlerTime, ServerMetrics.predictionTime, ServerMetrics.queueTime, ServerMetrics.workerThreadTime,
        ServerMetrics.workerLoadTime, ServerMetrics.requests2XX, ServerMetrics.requests4XX, ServerMetrics.requests5XX,
        ServerMetrics.memoryUsed, ServerMetrics.memoryAvailable, ServerMetrics.memoryUtilization,
        ServerMetrics.cpuUtilization, ServerMetrics.inferenceRequests, ServerMetrics.inferenceLatency,
        ServerMetrics.queueLatency,
    ]
    let python = PythonBackend(
        executable: PythonInterpreter.defaultExecutable(configured: pythonExecutable ?? configuration.pythonExecutable),
        maxResponseSize: configuration.maxResponseSize,
        installsDependencies: configuration.installPythonDependenciesPerModel, metrics: metrics.registry, reservedMetricNames: reserved,
        logger: logger)
    return HandlerRuntimeBackend(declarative: TorchInferenceBackend(logger: logger), python: python)
}
