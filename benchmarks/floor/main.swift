// ember-floor-bench: the "floor" of the benchmark. Loads TorchScript models through the shim and runs
// `forward` in-process on one thread, with no HTTP, no JSON and no batching queue, at several batch sizes
// and intra-op thread counts. Prints one JSON object per line (kind "floor") for benchmarks/run.py.
//
//   ember-floor-bench [--model NAME=PATH:ROWSHAPE]... [--batches 1,8,32] [--threads 1,2]
//                     [--seconds 3] [--warmup 0.5] [--with-copies]
//
// ROWSHAPE is the shape of one row without the batch dimension, e.g. `16` or `3,224,224`.
// Without --model, the two example models under examples/ are used (run from the repository root).
// --with-copies also copies the input from a Swift `Tensor` into libtorch and the output back out on
// every forward, as a server must; without it the input tensor is built once and reused.
import TorchBackend

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

struct ModelSpec {
    let name: String
    let path: String
    let rowShape: [Int]
}

struct Options {
    var models: [ModelSpec] = []
    var batches: [Int] = [1, 8, 32]
    var threads: [Int] = [1, 2]
    var seconds: Double = 3
    var warmup: Double = 0.5
    var withCopies = false
}

func fail(_ message: String) -> Never {
    let line = Array("ember-floor-bench: \(message)\n".utf8)
    _ = line.withUnsafeBytes { write(2, $0.baseAddress, $0.count) }
    exit(2)
}

func intList(_ text: String, _ what: String) -> [Int] {
    let values = text.split(separator: ",").map { Int($0.trimmingCharacters()) }
    guard !values.isEmpty, values.allSatisfy({ ($0 ?? 0) > 0 }) else { fail("bad \(what): \(text)") }
    return values.map { $0! }
}

extension Substring {
    func trimmingCharacters() -> String { String(self.filter { $0 != " " }) }
}

func parseModel(_ text: String) -> ModelSpec {
    // NAME=PATH:ROWSHAPE; the shape is after the last colon.
    guard let eq = text.firstIndex(of: "="), let colon = text.lastIndex(of: ":"), eq < colon else {
        fail("--model wants NAME=PATH:ROWSHAPE, got \(text)")
    }
    let name = String(text[..<eq])
    let path = String(text[text.index(after: eq)..<colon])
    let shape = intList(String(text[text.index(after: colon)...]), "row shape")
    return ModelSpec(name: name, path: path, rowShape: shape)
}

func parseOptions() -> Options {
    var options = Options()
    var args = CommandLine.arguments.dropFirst().makeIterator()
    func value(_ flag: String) -> String {
        guard let next = args.next() else { fail("\(flag) needs a value") }
        return next
    }
    while let arg = args.next() {
        switch arg {
        case "--model": options.models.append(parseModel(value(arg)))
        case "--batches": options.batches = intList(value(arg), "batches")
        case "--threads": options.threads = intList(value(arg), "threads")
        case "--seconds":
            guard let s = Double(value(arg)), s > 0 else { fail("bad --seconds") }
            options.seconds = s
        case "--warmup":
            guard let s = Double(value(arg)), s >= 0 else { fail("bad --warmup") }
            options.warmup = s
        case "--with-copies": options.withCopies = true
        case "-h", "--help":
            print("usage: ember-floor-bench [--model NAME=PATH:ROWSHAPE]... [--batches 1,8,32] [--threads 1,2]")
            print("                         [--seconds 3] [--warmup 0.5] [--with-copies]")
            exit(0)
        default: fail("unknown argument \(arg)")
        }
    }
    if options.models.isEmpty {
        options.models = [
            ModelSpec(name: "mlp", path: "examples/mlp/mlp.pt", rowShape: [16]),
            ModelSpec(name: "resnet18", path: "examples/resnet18/resnet18.pt", rowShape: [3, 224, 224]),
        ]
    }
    return options
}

func now() -> Double {
    var ts = timespec()
    clock_gettime(CLOCK_MONOTONIC, &ts)
    return Double(ts.tv_sec) + Double(ts.tv_nsec) * 1e-9
}

func percentile(_ sorted: [Double], _ p: Double) -> Double {
    guard !sorted.isEmpty else { return 0 }
    let index = min(sorted.count - 1, max(0, Int((p / 100 * Double(sorted.count)).rounded(.up)) - 1))
    return sorted[index]
}

func jsonNumber(_ x: Double) -> String {
    x.isFinite ? String(format3(x)) : "null"
}

/// Fixed-precision formatting without Foundation.
func format3(_ x: Double) -> String {
    let scaled = (x * 1000).rounded()
    let sign = scaled < 0 ? "-" : ""
    let magnitude = abs(scaled)
    let whole = Int(magnitude / 1000)
    let frac = Int(magnitude.truncatingRemainder(dividingBy: 1000))
    let fracText = String(frac)
    return "\(sign)\(whole).\(String(repeating: "0", count: 3 - fracText.count))\(fracText)"
}

func jsonString(_ s: String) -> String {
    var out = "\""
    for ch in s.unicodeScalars {
        switch ch {
        case "\"": out += "\\\""
        case "\\": out += "\\\\"
        case "\n": out += "\\n"
        default: out.unicodeScalars.append(ch)
        }
    }
    return out + "\""
}

/// Deterministic pseudo-random inputs in [-1, 1).
func inputFloats(count: Int) -> [Float] {
    var state: UInt64 = 0x9E37_79B9_7F4A_7C15
    return (0..<count).map { _ in
        state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
        return Float(Int64(bitPattern: state >> 11) % 2_000_000) / 1_000_000 - 1
    }
}

func run(_ spec: ModelSpec, module: TorchModule, batch: Int, threads: Int, options: Options) throws {
    try TorchRuntime.setIntraOpThreads(threads)
    let shape = [batch] + spec.rowShape
    let swiftInput = try Tensor(shape: shape, floats: inputFloats(count: shape.reduce(1, *)))
    let reused = try TorchTensor(swiftInput)

    func once() throws {
        if options.withCopies {
            let output = try module.forward([try TorchTensor(swiftInput)])
            _ = try output.tensor?.value()
        } else {
            _ = try module.forward([reused])
        }
    }

    // Warm-up: at least one forward (the first runs TorchScript's profiling/optimisation passes).
    let warmStart = now()
    repeat { try once() } while now() - warmStart < options.warmup

    var times: [Double] = []
    let start = now()
    var last = start
    // Bounded: stops after the duration, with at least 3 forwards, or 1,000,000 forwards.
    while times.count < 1_000_000 {
        try once()
        let t = now()
        times.append(t - last)
        last = t
        if t - start >= options.seconds && times.count >= 3 { break }
    }
    let elapsed = last - start
    let sorted = times.sorted()
    let forwardsPerSecond = Double(times.count) / elapsed
    let fields: [(String, String)] = [
        ("kind", jsonString("floor")),
        ("model", jsonString(spec.name)),
        ("batch", String(batch)),
        ("threads", String(threads)),
        ("with_copies", options.withCopies ? "true" : "false"),
        ("forwards", String(times.count)),
        ("seconds", jsonNumber(elapsed)),
        ("forwards_per_s", jsonNumber(forwardsPerSecond)),
        ("rows_per_s", jsonNumber(forwardsPerSecond * Double(batch))),
        ("mean_ms", jsonNumber(elapsed / Double(times.count) * 1000)),
        ("p50_ms", jsonNumber(percentile(sorted, 50) * 1000)),
        ("p99_ms", jsonNumber(percentile(sorted, 99) * 1000)),
    ]
    print("{" + fields.map { "\(jsonString($0.0)): \($0.1)" }.joined(separator: ", ") + "}")
    fflush(nil)
}

let options = parseOptions()
var failures = 0
for spec in options.models {
    let module: TorchModule
    do {
        let loadStart = now()
        module = try TorchModule(contentsOf: spec.path, device: "cpu")
        let loadMs = (now() - loadStart) * 1000
        print("{\"kind\": \"floor_load\", \"model\": \(jsonString(spec.name)), \"load_ms\": \(jsonNumber(loadMs))}")
    } catch {
        print("{\"kind\": \"floor_error\", \"model\": \(jsonString(spec.name)), \"error\": \(jsonString("\(error)"))}")
        failures += 1
        continue
    }
    for threads in options.threads {
        for batch in options.batches {
            do {
                try run(spec, module: module, batch: batch, threads: threads, options: options)
            } catch {
                print(
                    "{\"kind\": \"floor_error\", \"model\": \(jsonString(spec.name)), \"batch\": \(batch), "
                        + "\"threads\": \(threads), \"error\": \(jsonString("\(error)"))}")
                failures += 1
            }
        }
    }
}
exit(failures == 0 ? 0 : 1)
