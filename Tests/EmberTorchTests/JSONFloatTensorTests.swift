import EmberCore
import Foundation
import Testing

@testable import EmberTorch

/// The direct JSON → float32 reader against the general path it short-cuts (JSONValue + JSONTensor):
/// the same floats bit for bit where it answers, and nil (so the general path answers, with its
/// messages) for everything else.
@Suite struct JSONFloatTensorTests {
    /// What the general path makes of a body: its real rows, each rounded to Float as the batch tensor does.
    func generalFloats(_ text: String, shape: [Int]? = nil) throws -> [Float] {
        let decoded = try JSONTensor.decode(Array(text.utf8), declaredShape: shape, dtypeName: "float32", integral: false, boolean: false)
        guard case .reals(let rows) = decoded.rows else { throw ServerError.badRequest("not reals") }
        return rows.flatMap { $0.map { Float($0) } }
    }

    func fast(_ text: String) -> JSONFloatTensor? { JSONFloatTensor.parse(Array(text.utf8)) }

    @Test func nestedListsIntegersAndExponentsReadAsTheGeneralPathReadsThem() throws {
        let body = #"{"data": [[1, -2, 0.5, 1e-7], [1E+2, -0, -0.0, 3.4028234e38], [9007199254740993, 123456789012345678901234567890, 0.1, 2.5e-45]]}"#
        let parsed = try #require(fast(body))
        #expect(parsed.shape == [3, 4])
        let general = try generalFloats(body, shape: [4])
        #expect(parsed.values.map(\.bitPattern) == general.map(\.bitPattern))
        // `-0` is an integer literal (+0.0), `-0.0` a negative zero, as JSONValue reads them.
        #expect(parsed.values[5].sign == .plus)
        #expect(parsed.values[6].sign == .minus)
        #expect(try #require(fast("[[[1]], [[2]]]")).shape == [2, 1, 1])
        // KServe's instances: each element one row, as JSONTensor reads them.
        let instances = #"{"instances": [[0.5, -1, 2e3, 0.25], [1, 1, 1, 1e-3]]}"#
        let read = try #require(fast(instances))
        #expect(read.isInstances && read.shape == [2, 4])
        #expect(read.values.map(\.bitPattern) == (try generalFloats(instances, shape: [4])).map(\.bitPattern))
        #expect(try #require(fast(" \n[1,2 , 3]\t")).values == [1, 2, 3])
    }

    /// Random literals of every form (long significands, exponents at the fast path's edges and past
    /// them, integers beyond Int64) give the same float bits as Float(Double(text)).
    @Test func randomLiteralsMatchTheStandardLibrary() throws {
        var generator = SystemRandomNumberGenerator()
        var literals: [String] = []
        for _ in 0..<5000 {
            var text = Bool.random(using: &generator) ? "-" : ""
            let integerDigits = Int.random(in: 1...22, using: &generator)
            text += String(Int.random(in: 1...9, using: &generator))
            for _ in 1..<integerDigits { text += String(Int.random(in: 0...9, using: &generator)) }
            if Int.random(in: 0...3, using: &generator) == 0 { text = text.hasPrefix("-") ? "-0" : "0" }
            if Bool.random(using: &generator) {
                text += "."
                for _ in 0..<Int.random(in: 1...20, using: &generator) { text += String(Int.random(in: 0...9, using: &generator)) }
            }
            if Bool.random(using: &generator) {
                text += ["e", "E"].randomElement(using: &generator) ?? "e"
                text += ["", "+", "-"].randomElement(using: &generator) ?? ""
                text += String(Int.random(in: 0...60, using: &generator))
            }
            literals.append(text)
        }
        for literal in literals {
            let general = try? generalFloats("[\(literal)]")
            let parsed = fast("[\(literal)]")
            if let general {
                #expect(parsed?.values.map(\.bitPattern) == general.map(\.bitPattern), "\(literal)")
            } else {
                #expect(parsed == nil, "\(literal) is refused by the general path")
            }
        }
    }

    @Test(arguments: [
        "", "[]", "[[]]", "[1, [2]]", "[[1, 2], [3]]", "[[1], 2]", #"["1"]"#, "[true]", "[null]", #"[{"a": 1}]"#,
        #"{"instances": []}"#, #"{"data": [1], "x": 2}"#, #"{"d\u0061ta": [1]}"#, #"{"body": [1]}"#, #"{"data": 1}"#,
        "\u{FEFF}[1]", "[1,]", "[01]", "[1.]", "[.5]", "[+1]", "[NaN]", "[1e39]", "[1e999]", "[-1e400]", "[1] x", "[1",
        "[1 2]", "[1e]", "[-]", "5",
    ])
    func everythingElseIsLeftToTheGeneralPath(body: String) {
        #expect(fast(body) == nil)
    }

    /// Random documents, many of them broken (ragged, empty lists, strings, trailing commas): wherever the
    /// fast path answers, the general path accepts the body too, with the same floats, rows and shapes.
    @Test func randomDocumentsTheFastPathAcceptsAreReadAsTheGeneralPathReadsThem() throws {
        var generator = SystemRandomNumberGenerator()
        func random(_ range: ClosedRange<Int>) -> Int { Int.random(in: range, using: &generator) }
        func space() -> String { ["", " ", "\n", "\t ", "  "][random(0...4)] }
        func element() -> String {
            switch random(0...40) {
            case 0: return #""x""#
            case 1: return "true"
            case 2: return "[]"
            case 3: return "null"
            default: return ["1", "-0", "2.5", "-3e-2", "1E2", "0.1", "7"][random(0...6)]
            }
        }
        func list(_ dims: ArraySlice<Int>) -> String {
            guard let size = dims.first else { return element() }
            var count = size
            if random(0...30) == 0 { count += [-1, 1][random(0...1)] }  // ragged now and then
            let items = (0..<max(count, 0)).map { _ in space() + list(dims.dropFirst()) + space() }
            return "[" + items.joined(separator: ",") + (random(0...40) == 0 ? ",]" : "]")
        }
        var accepted = 0
        for _ in 0..<3000 {
            let dims = (0..<random(1...3)).map { _ in random(1...3) }
            let inner = list(dims[...])
            let layout = random(0...2)
            let body = layout == 0 ? inner : "{" + space() + (layout == 1 ? #""data""# : #""instances""#) + space() + ":" + inner + "}"
            let declared: [Int]? = random(0...1) == 0 ? nil : Array(dims.dropFirst(random(0...1)))
            guard let fast = fast(body),
                let rows = JSONTensor.rows(ofShape: fast.shape, declaredShape: declared, instances: fast.isInstances)
            else { continue }
            accepted += 1
            let general = try JSONTensor.decode(
                Array(body.utf8), declaredShape: declared, dtypeName: "float32", integral: false, boolean: false)
            guard case .reals(let generalRows) = general.rows else {
                Issue.record("\(body): not reals")
                continue
            }
            #expect(generalRows.count == rows.count, "\(body)")
            #expect(general.rowShape == rows.rowShape, "\(body)")
            #expect(general.isMultiRow == rows.isMultiRow, "\(body)")
            #expect(generalRows.flatMap { $0.map { Float($0).bitPattern } } == fast.values.map(\.bitPattern), "\(body)")
        }
        // Most documents are well formed: the comparison above ran on many of them.
        #expect(accepted > 1000)
    }

    @Test func hugeAndDeepInputsAreBounded() throws {
        let count = 200_000
        let big = "[" + Array(repeating: "0.25", count: count).joined(separator: ",") + "]"
        let parsed = try #require(fast(big))
        #expect(parsed.shape == [count])
        #expect(parsed.values.allSatisfy { $0 == 0.25 })
        // Nesting past the bound is left to JSONValue, which refuses it: no deep recursion here.
        let deep = String(repeating: "[", count: 100_000) + "1" + String(repeating: "]", count: 100_000)
        #expect(fast(deep) == nil)
    }

    /// Through the pipeline, bodies the fast path leaves alone still get the general path's clear 400.
    @Test func refusedBodiesKeepTheirMessages() throws {
        let pipeline = try TensorHandlerTests().pipeline()
        let results = pipeline.answers([
            Array(#"{"data": [1, 2, 3, 1e39]}"#.utf8), Array("[[1, 2, 3, 4], [1, 2]]".utf8),
            Array(#"{"instances": [[1, 2]]}"#.utf8),
        ])
        guard case .failure(let tooLarge) = results[0], case .failure(let ragged) = results[1],
            case .failure(let instance) = results[2]
        else {
            Issue.record("expected three failures")
            return
        }
        #expect(tooLarge.code == .badRequest && tooLarge.message.contains("does not fit in float32"))
        #expect(ragged.code == .badRequest && ragged.message.contains("ragged"))
        #expect(instance.code == .badRequest && instance.message.contains("Each instance must have shape [4]"))
    }
}
