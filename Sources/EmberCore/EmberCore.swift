public enum EmberCore {}
