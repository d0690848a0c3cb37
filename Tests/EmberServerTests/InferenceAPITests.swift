import EmberCore
import Foundation
import Testing

@Suite(.serialized) struct InferenceAPITests {
    @Test func pingPredictAndErrors() async throws {
        try await TestServer.with { server in
            let ping = try await server.request("GET", port: server.inference, "/ping")
            #expect(ping.status == 200)
            #expect(ping.json == ["status": "Healthy"])
            #expect(ping.headers["x-request-id"]?.count == 36)
            #expect(ping.headers["cache-control"] == "no-cache; no-store, must-revalidate, private")

            let answer = try await server.predict("mlp", json: #"{"data": [0.5, -1.0, 2.0, 0.25]}"#)
            #expect(answer.status == 200)
            #expect(answer.json?["prediction"] == 1)
            #expect(answer.headers["content-type"] == "application/json")

            // Versioned path, raw body without a content type, and a multipart field.
            let versioned = try await server.request(
                "POST", port: server.inference, "/predictions/mlp/1.0", body: Data("[1, 1, 1, 1]".utf8))
            #expect(versioned.json?["prediction"] == 1)
            let boundary = "XyZ"
            let multipart = Data("--\(boundary)\r\nContent-Disposition: form-data; name=\"data\"\r\n\r\n[1, 1, 1, 1]\r\n--\(boundary)--\r\n".utf8)
            let form = try await server.request(
                "POST", port: server.inference, "/predictions/mlp", body: multipart,
                contentType: "multipart/form-data; boundary=\(boundary)")
            #expect(form.json?["prediction"] == 1)

            let unknown = try await server.predict("nope", json: "[1]")
            #expect(unknown.status == 404)
            #expect(unknown.json == ["code": 404, "type": "ModelNotFoundException", "message": "Model not found: nope"])
            let badVersion = try await server.predict("mlp/9.9", json: "[1]")
            #expect(badVersion.status == 404)
            #expect(badVersion.json?["message"] == "Model version: 9.9 does not exist for model: mlp")

            let wrongShape = try await server.predict("mlp", json: #"{"data": [1, 2, 3]}"#)
            #expect(wrongShape.status == 400)
            #expect(wrongShape.json?["message"].map { "\($0)".contains("[4]") } == true)

            let tooLarge = try await server.request(
                "POST", port: server.inference, "/predictions/mlp", body: Data(count: 2_000_000), contentType: "application/json")
            #expect(tooLarge.status == 413)

            let noField = try await server.request(
                "POST", port: server.inference, "/predictions/mlp",
                body: Data("--b\r\nContent-Disposition: form-data; name=\"x\"\r\n\r\n1\r\n--b--\r\n".utf8),
                contentType: "multipart/form-data; boundary=b")
            #expect(noField.status == 400)

            #expect(try await server.request("GET", port: server.inference, "/nothing").status == 404)
            #expect(try await server.request("GET", port: server.inference, "/predictions").status == 404)
            // The server keeps serving after every error above.
            #expect(try await server.predict("mlp", json: "[1, 1, 1, 1]").status == 200)
        }
    }

    @Test func imageClassifierThroughHTTP() async throws {
        try await TestServer.with { server in
            let image = try Data(contentsOf: TestServer.fixture("EmberTorchTests/Fixtures/images/landscape.jpg"))
            let reply = try await server.request("POST", port: server.inference, "/predictions/classifier", body: image)
            #expect(reply.status == 200)
            guard case .object(let pairs)? = reply.json else {
                Issue.record("not an object: \(reply.text)")
                return
            }
            #expect(pairs.count == 5)
            #expect(pairs.first?.0 == "label_2")
            let garbage = try await server.request(
                "POST", port: server.inference, "/predictions/classifier", body: Data("nope".utf8))
            #expect(garbage.status == 400)
            #expect(try await server.request("POST", port: server.inference, "/predictions/classifier", body: image).status == 200)
        }
    }

    /// 16 concurrent image requests, batched by the server, each answered with its own image's top-5.
    @Test func sixteenConcurrentImagesEachGetTheirOwnLabels() async throws {
        let expected = try JSONValue.parse([UInt8](Data(contentsOf: TestServer.fixture("EmberTorchTests/Fixtures/expected.json"))))
        let names = ["landscape.jpg", "portrait.png", "wide-gray.jpg", "rgba.png", "palette.png", "exact224.png", "small.jpg", "gray.png"]
        let answers = try await TestServer.with(models: ["classifier.mar"]) { server in
            try await withThrowingTaskGroup(of: (String, JSONValue?).self) { group in
                for index in 0..<16 {
                    let name = names[index % names.count]
                    let image = try Data(contentsOf: TestServer.fixture("EmberTorchTests/Fixtures/images/" + name))
                    group.addTask {
                        (name, try await server.request("POST", port: server.inference, "/predictions/classifier", body: image).json)
                    }
                }
                var answers: [(String, JSONValue?)] = []
                for try await answer in group { answers.append(answer) }
                return answers
            }
        }
        #expect(answers.count == 16)
        for (name, answer) in answers {
            guard case .object(let pairs)? = answer, case .array(let reference)? = expected["classifier"]?[name] else {
                Issue.record("\(name): \(String(describing: answer))")
                continue
            }
            #expect(pairs.count == 5)
            #expect(pairs.first.map { JSONValue.string($0.0) } == reference.first?[0], "\(name)")
            for (pair, wanted) in zip(pairs, reference) {
                guard case .double(let probability) = pair.1, case .double(let target)? = wanted[1] else { continue }
                #expect(abs(probability - target) < 0.02, "\(name) \(pair.0)")
            }
        }
    }

    @Test func apiDescriptionAndReadiness() async throws {
        try await TestServer.with { server in
            let description = try await server.request("OPTIONS", port: server.inference, "/")
            #expect(description.status == 200)
            #expect(description.json?["openapi"] == "3.0.1")
            let paths = description.json?["paths"]
            #expect(paths?["/predictions/{model_name}"] != nil)
            #expect(paths?["/v2/health/ready"] != nil)
            #expect(try await server.request("GET", port: server.inference, "/").status == 405)
            #expect(try await server.request("GET", port: server.management, "/api-description").json?["paths"]?["/models"] != nil)
            #expect(try await server.request("GET", port: server.inference, "/v2/health/live").json == ["live": true])
            #expect(try await server.request("GET", port: server.inference, "/v2/health/ready").status == 200)
            #expect(try await server.request("GET", port: server.inference, "/v2/models/mlp/ready").status == 200)
            #expect(try await server.request("GET", port: server.inference, "/v2/models/nope/ready").status == 404)
            let options = try await server.request("OPTIONS", port: server.inference, "/predictions/mlp")
            #expect(options.json?["info"]?["title"] == "RESTful API for: mlp")
        }
    }

    @Test func concurrentRequestsFormBatchesAndEachGetsItsOwnAnswer() async throws {
        try await TestServer.with { server in
            let rows: [[Double]] = (0..<48).map { i in [Double(i) / 10, -1, 2, Double(i % 5)] }
            let single = try await withThrowingTaskGroup(of: (Int, JSONValue?).self) { group in
                for (index, row) in rows.enumerated() {
                    group.addTask {
                        let json = "[" + row.map { String($0) }.joined(separator: ", ") + "]"
                        return (index, try await server.predict("mlp", json: json).json)
                    }
                }
                var answers: [Int: JSONValue] = [:]
                for try await (index, answer) in group { answers[index] = answer }
                return answers
            }
            // The same rows in one request, answered row by row, must equal the concurrent answers.
            let together = try await server.predict(
                "mlp", json: "[" + rows.map { "[" + $0.map { String($0) }.joined(separator: ", ") + "]" }.joined(separator: ", ") + "]")
            guard case .array(let expected)? = together.json else {
                Issue.record("not a list: \(together.text)")
                return
            }
            for index in rows.indices {
                let got = try #require(single[index])
                #expect(got["prediction"] == expected[index]["prediction"])
                let a = got["probabilities"]?[0].flatMap { if case .double(let v) = $0 { v } else { nil } } ?? -1
                let b = expected[index]["probabilities"]?[0].flatMap { if case .double(let v) = $0 { v } else { nil } } ?? -2
                #expect(abs(a - b) < 1e-5)
            }
            let metrics = try await server.request("GET", port: server.metricsPort, "/metrics?name[]=ember_batch_size")
            let count = metrics.text.split(separator: "\n").first { $0.hasPrefix("ember_batch_size_count{model_name=\"mlp\"") }
            let sum = metrics.text.split(separator: "\n").first { $0.hasPrefix("ember_batch_size_sum{model_name=\"mlp\"") }
            let batches = Double(count?.split(separator: " ").last ?? "0") ?? 0
            let requests = Double(sum?.split(separator: " ").last ?? "0") ?? 0
            #expect(requests == 49)
            #expect(batches < requests, "some batch held more than one request")
        }
    }

    @Test func aFullQueueAnswers503AndAThrowingModel503ThenRecovers() async throws {
        try await TestServer.with { server in
            // slow: one worker, batch 1, queue of 3; each request spins long enough to pile up.
            let results = try await withThrowingTaskGroup(of: Int.self) { group in
                for _ in 0..<10 {
                    group.addTask { try await server.predict("slow", json: "[40, 1]").status }
                }
                var statuses: [Int] = []
                for try await status in group { statuses.append(status) }
                return statuses
            }
            #expect(results.contains(503), "\(results)")
            #expect(results.contains(200), "\(results)")
            let thrown = try await server.predict("slow", json: "[-1, 1]")
            #expect(thrown.status == 503)
            #expect(thrown.json?["message"] == "Prediction failed")
            let next = try await server.predict("slow", json: "[0, 21]")
            #expect(next.status == 200)
            #expect(next.json == [0.0, 42.0])
        }
    }

    @Test func metricsCountTheRequestsSent() async throws {
        try await TestServer.with { server in
            for _ in 0..<7 { _ = try await server.predict("mlp", json: "[1, 2, 3, 4]") }
            for _ in 0..<2 { _ = try await server.predict("mlp/1.0", json: "[1, 2, 3, 4]") }
            _ = try await server.predict("nope", json: "[1]")
            let text = try await server.request("GET", port: server.metricsPort, "/metrics").text
            #expect(text.contains(#"ts_inference_requests_total{model_name="mlp",model_version="default",hostname="test-host",} 7.0"#))
            #expect(text.contains(#"ts_inference_requests_total{model_name="mlp",model_version="1.0",hostname="test-host",} 2.0"#))
            #expect(text.contains(#"Requests2XX{Level="Host",Hostname="test-host",} 9.0"#))
            #expect(text.contains(#"Requests4XX{Level="Host",Hostname="test-host",} 1.0"#))
            #expect(text.contains("# TYPE ts_inference_latency_microseconds counter"))
            #expect(text.contains(#"PredictionTime{ModelName="mlp",Level="Model",Hostname="test-host",} "#))
            #expect(text.contains(#"WorkerLoadTime{WorkerName="W-mlp_1.0",Level="Host",Hostname="test-host",} "#))
            #expect(text.contains(#"MemoryUsed{Level="Host",Hostname="test-host",} "#))
            // Server-side overhead (latency minus the forward) is observed once per answered request.
            #expect(text.contains(#"ember_server_overhead_seconds_count{model_name="mlp",model_version="default",} 7.0"#))
            let filtered = try await server.request("GET", port: server.metricsPort, "/metrics?name[]=Requests4XX").text
            #expect(filtered.hasPrefix("# HELP Requests4XX"))
            #expect(!filtered.contains("Requests2XX"))
        }
    }
}
