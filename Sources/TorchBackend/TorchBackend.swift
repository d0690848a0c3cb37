public enum TorchBackend {}
