import EmberCore
import Testing

@testable import EmberPython

@Suite struct ResponseMappingTests {
    private let batch = [
        InferenceInput(body: [], requestID: "a"), InferenceInput(body: [], requestID: "b"),
    ]

    @Test func predictionsAnswerTheirOwnRequestsWithTheirStatus() {
        let response = WorkerResponse(code: 200, message: "Prediction success", predictions: [
            .init(requestID: "b", statusCode: 507, body: Array("Invalid response".utf8)),
            .init(requestID: "a", contentType: "text/plain", body: Array("OK".utf8)),
        ])
        let results = response.results(for: batch)
        #expect(results[0] == .success(InferenceOutput(status: 200, body: Array("OK".utf8), contentType: "text/plain")))
        #expect(results[1] == .success(InferenceOutput(status: 507, body: Array("Invalid response".utf8), contentType: nil)))
    }

    @Test func aMissingPredictionFailsOnlyItsRequest() {
        let response = WorkerResponse(code: 200, message: "", predictions: [.init(requestID: "a", body: [1])])
        let results = response.results(for: batch)
        #expect((try? results[0].get())?.body == [1])
        #expect(results[1] == .failure(.batchResponseMismatch))
    }

    @Test func aFailedBatchFailsEveryRequestAsTorchServeDoes() {
        let failed = WorkerResponse(code: 503, message: "Prediction failed").results(for: batch)
        #expect(failed == [.failure(.predictionFailed), .failure(.predictionFailed)])
        let memory = WorkerResponse(code: 507, message: "Out of resources").results(for: batch)
        #expect(memory.allSatisfy { $0 == .failure(.outOfResources) })
        // A PredictionException's own code and message, in TorchServe's error body.
        let custom = WorkerResponse(code: 599, message: "Some Prediction Error").results(for: batch)
        let output = try? custom[0].get()
        #expect(output?.status == 599)
        #expect(output.map { String(decoding: $0.body, as: UTF8.self) }
            == "{\n  \"code\": 599,\n  \"type\": \"InternalServerException\",\n  \"message\": \"Some Prediction Error\"\n}\n")
    }

    @Test func formsBecomeOneInputPerField() {
        let body = Array("--XX\r\nContent-Disposition: form-data; name=\"data\"; filename=\"a.bin\"\r\nContent-Type: application/octet-stream\r\n\r\n\u{01}\u{02}\r\n--XX\r\nContent-Disposition: form-data; name=\"k\"\r\n\r\nv\r\n--XX--\r\n".utf8)
        let multipart = WorkerRequest(InferenceInput(body: body, contentType: "multipart/form-data; boundary=XX", requestID: "m"))
        #expect(multipart.parameters == [
            .init(name: "data", contentType: "application/octet-stream", value: [1, 2]),
            .init(name: "k", contentType: "", value: Array("v".utf8)),
        ])
        let form = WorkerRequest(InferenceInput(body: Array("x=1&y=a%20b".utf8), contentType: "application/x-www-form-urlencoded", requestID: "f"))
        #expect(form.parameters.map(\.name) == ["x", "y"])
        #expect(form.parameters.map(\.value) == [Array("1".utf8), Array("a b".utf8)])
        let plain = WorkerRequest(InferenceInput(body: [7], contentType: "application/json; charset=utf-8", requestID: "p"))
        #expect(plain.parameters == [.init(name: "body", contentType: "application/json", value: [7])])
        #expect(plain.headers.first?.value == "application/json; charset=utf-8")
        let raw = WorkerRequest(InferenceInput(body: [7], contentType: nil, requestID: "r"))
        #expect(raw.parameters == [.init(name: "body", contentType: "", value: [7])])
    }
}
