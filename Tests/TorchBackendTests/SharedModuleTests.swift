import Foundation
import Testing
import TorchBackend

/// Workers share one module (one copy of the weights): concurrent forwards must all be right.
@Suite struct SharedModuleTests {
    @Test func fourThreadsTimesTwoHundredForwardsOnOneModule() throws {
        let module = try TorchModule(contentsOf: Fixtures.path("mlp.pt"))
        let input = try #require(Fixtures.expected.mlp.input)
        let expectedOutput = try #require(Fixtures.expected.mlp.output)
        let threads = 4
        let iterations = 200
        let results = ThreadResults(count: threads)
        let group = DispatchGroup()
        for threadIndex in 0..<threads {
            group.enter()
            let thread = Thread {
                defer { group.leave() }
                var correct = 0
                for iteration in 0..<iterations {
                    do {
                        // Each call scales its input so outputs differ per call and mix-ups would show.
                        let scale = Float(threadIndex * iterations + iteration % 7 + 1)
                        let tensor = try Tensor(shape: [2, 4], floats: input.map { $0 * scale })
                        let output = try module.forward(tensor).tensor?.value().floats ?? []
                        let single = try module.forward(try Tensor(shape: [2, 4], floats: input)).tensor?.value().floats ?? []
                        if output.count == 6, maxDifference(single, expectedOutput) < 1e-5 { correct += 1 }
                    } catch {
                        results.record(error: "\(error)")
                    }
                }
                results.set(threadIndex, correct)
            }
            thread.start()
        }
        group.wait()
        #expect(results.errors.isEmpty, "\(results.errors.prefix(3))")
        #expect(results.counts == Array(repeating: iterations, count: threads))
    }

    @Test func concurrentBatchedForwardsEachGetTheirOwnRows() throws {
        let module = try TorchModule(contentsOf: Fixtures.path("tuple_out.pt"))
        let results = ThreadResults(count: 4)
        DispatchQueue.concurrentPerform(iterations: 4) { index in
            var correct = 0
            for iteration in 0..<200 {
                let value = Float(index * 1000 + iteration)
                if let doubled = try? module.forward(try Tensor(shape: [2], floats: [value, -value]))[0]?.tensor?.value(),
                    doubled.floats == [2 * value, -2 * value]
                {
                    correct += 1
                }
            }
            results.set(index, correct)
        }
        #expect(results.counts == [200, 200, 200, 200])
    }
}

/// Collects per-thread results behind a lock.
final class ThreadResults: @unchecked Sendable {
    private let lock = NSLock()
    private var storage: [Int]
    private var errorList: [String] = []

    init(count: Int) { storage = Array(repeating: 0, count: count) }

    func set(_ index: Int, _ value: Int) { lock.withLock { storage[index] = value } }
    func record(error: String) { lock.withLock { errorList.append(error) } }
    var counts: [Int] { lock.withLock { storage } }
    var errors: [String] { lock.withLock { errorList } }
}
