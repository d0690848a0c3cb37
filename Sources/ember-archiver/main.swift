import ArgumentParser
import EmberArchiverCLI

EmberArchiverCommand.main()
