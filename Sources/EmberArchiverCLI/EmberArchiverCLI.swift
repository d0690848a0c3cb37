public enum EmberArchiverCLI {}
