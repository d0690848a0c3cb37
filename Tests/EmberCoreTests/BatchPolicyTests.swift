import EmberCore
import Testing

@Suite struct BatchPolicyTests {
    let policy = BatchPolicy(batchSize: 8, maxBatchDelay: .milliseconds(10))
    let t0 = PoolInstant.now

    @Test func aLoneRequestOnAnIdleWorkerGoesAtOnce() {
        #expect(policy.decide(queued: 1, oldestArrival: t0, now: t0, underLoad: false) == .dispatch(1))
        #expect(policy.decide(queued: 3, oldestArrival: t0, now: t0, underLoad: false) == .dispatch(3))
    }

    @Test func aFullBatchGoesAtOnce() {
        #expect(policy.decide(queued: 20, oldestArrival: t0, now: t0, underLoad: true) == .dispatch(8))
        #expect(policy.decide(queued: 8, oldestArrival: t0, now: t0, underLoad: false) == .dispatch(8))
    }

    @Test func underLoadAPartialBatchWaitsUntilTheOldestHasWaitedMaxBatchDelay() {
        #expect(policy.decide(queued: 3, oldestArrival: t0, now: t0 + .milliseconds(4), underLoad: true)
            == .wait(until: t0 + .milliseconds(10)))
        #expect(policy.decide(queued: 3, oldestArrival: t0, now: t0 + .milliseconds(10), underLoad: true) == .dispatch(3))
        #expect(policy.decide(queued: 3, oldestArrival: t0, now: t0 + .milliseconds(25), underLoad: true) == .dispatch(3))
    }

    @Test func batchSizeOneAndZeroDelayNeverWait() {
        let single = BatchPolicy(batchSize: 1, maxBatchDelay: .milliseconds(100))
        #expect(single.decide(queued: 5, oldestArrival: t0, now: t0, underLoad: true) == .dispatch(1))
        let noDelay = BatchPolicy(batchSize: 8, maxBatchDelay: .milliseconds(-10_000))
        #expect(noDelay.decide(queued: 2, oldestArrival: t0, now: t0, underLoad: true) == .dispatch(2))
    }
}
