import EmberCore
import Testing

/// The chunks of a streamed answer between a worker's thread and the protocol writing them.
@Suite struct ResponseStreamTests {
    @Test func chunksComeInOrderAndAWaitingConsumerIsWoken() async throws {
        let stream = ResponseStream()
        let consumer = Task { () throws(ServerError) -> [[UInt8]] in
            var chunks: [[UInt8]] = []
            while let chunk = try await stream.next() { chunks.append(chunk) }
            return chunks
        }
        // The consumer is (most likely) already waiting: each yield must wake it.
        try await Task.sleep(for: .milliseconds(20))
        #expect(stream.yield([1]))
        #expect(stream.yield([2, 3]))
        stream.finish()
        #expect(!stream.yield([4]), "nothing after the end")
        #expect(try await consumer.value == [[1], [2, 3]])
    }

    @Test func aProducerThatOutrunsItsConsumerPastTheBoundFailsTheStream() async {
        let stream = ResponseStream(maxBufferedBytes: 8)
        #expect(stream.yield([UInt8](repeating: 0, count: 6)))
        #expect(!stream.yield([UInt8](repeating: 0, count: 3)))
        await #expect(throws: ServerError.self) { try await stream.next() }
    }

    @Test func takingChunksMakesRoomAndCollectJoinsWithinItsLimit() async throws {
        let stream = ResponseStream(maxBufferedBytes: 8)
        #expect(stream.yield([UInt8](repeating: 1, count: 6)))
        #expect(try await stream.next()?.count == 6)
        #expect(stream.yield([UInt8](repeating: 2, count: 6)), "the taken chunk no longer counts")
        stream.finish()
        #expect(try await stream.collect(limit: 100) == [UInt8](repeating: 2, count: 6))

        let long = ResponseStream()
        long.yield([1, 2, 3])
        long.yield([4, 5, 6])
        long.finish()
        await #expect(throws: ServerError.self) { try await long.collect(limit: 4) }
    }

    @Test func anAbandonedStreamDropsWhatComesAndEndsItsConsumer() async throws {
        let stream = ResponseStream()
        stream.yield([1])
        stream.abandon()
        #expect(stream.isAbandoned)
        #expect(!stream.yield([2]))
        #expect(try await stream.next() == nil)
    }

    @Test func aFailedStreamThrowsItsErrorAfterTheChunksBeforeIt() async throws {
        let stream = ResponseStream()
        stream.yield([7])
        stream.finish(.workerDied)
        #expect(try await stream.next() == [7])
        await #expect(throws: ServerError.workerDied) { try await stream.next() }
    }
}
