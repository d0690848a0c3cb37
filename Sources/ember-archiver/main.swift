import EmberArchiverCLI

EmberArchiverCommand.main()
