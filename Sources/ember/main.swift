import ArgumentParser
import EmberServer

// Parsed and run explicitly: `EmberCommand.main()` from top-level code resolves to the synchronous
// entry point, which cannot run the server.
do {
    let command = try EmberCommand.parse()
    try await command.execute()
} catch {
    EmberCommand.exit(withError: error)
}
