import Hummingbird
import ServiceLifecycle

public enum EmberHTTP {}
