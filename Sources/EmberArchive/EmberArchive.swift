public enum EmberArchive {}
