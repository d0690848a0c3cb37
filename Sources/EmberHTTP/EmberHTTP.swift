import Hummingbird
import Prometheus
import ServiceLifecycle

public enum EmberHTTP {}
