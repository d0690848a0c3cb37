import EmberCore
import Foundation

#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

/// Downloads allow-listed archives: redirects only to allowed URLs, at most `maxBytes`, within `timeout`.
/// The file appears in the store only once complete (written beside it, then renamed).
struct HTTPArchiveFetcher: ArchiveFetcher {
    var maxBytes: Int = 4 << 30
    var timeout: TimeInterval = 300

    func fetch(_ url: URL, to destination: URL, allowedURLs: [String]) throws(ServerError) {
        let failure = ServerError(.downloadFailed, "Failed to download archive from: \(url.absoluteString)")
        let partial = destination.deletingLastPathComponent()
            .appendingPathComponent(".\(destination.lastPathComponent).\(UUID().uuidString).part")
        guard FileManager.default.createFile(atPath: partial.path, contents: nil),
            let file = FileHandle(forWritingAtPath: partial.path)
        else { throw failure }
        let download = Download(file: file, maxBytes: maxBytes, isAllowed: { isAllowed($0, allowedURLs: allowedURLs) })
        let configuration = URLSessionConfiguration.ephemeral
        configuration.timeoutIntervalForRequest = timeout
        configuration.timeoutIntervalForResource = timeout
        let session = URLSession(configuration: configuration, delegate: download, delegateQueue: nil)
        session.dataTask(with: url).resume()
        let finished = download.done.wait(timeout: .now() + timeout + 5) == .success
        session.invalidateAndCancel()
        try? file.close()
        guard finished, download.succeeded else {
            try? FileManager.default.removeItem(at: partial)
            throw failure
        }
        do {
            try FileManager.default.moveItem(at: partial, to: destination)
        } catch {
            try? FileManager.default.removeItem(at: partial)
            throw ServerError(.internalError, "Failed to save model: \(url.absoluteString)")
        }
    }
}

/// One download's state; URLSession calls it on its own queue.
private final class Download: NSObject, URLSessionDataDelegate, @unchecked Sendable {
    let file: FileHandle
    let maxBytes: Int
    let isAllowed: @Sendable (String) -> Bool
    let done = DispatchSemaphore(value: 0)
    private let lock = NSLock()
    private var received = 0
    private var failed = false
    private var completed = false

    init(file: FileHandle, maxBytes: Int, isAllowed: @escaping @Sendable (String) -> Bool) {
        self.file = file
        self.maxBytes = maxBytes
        self.isAllowed = isAllowed
    }

    var succeeded: Bool { lock.withLock { completed && !failed } }

    private func fail() { lock.withLock { failed = true } }

    func urlSession(
        _ session: URLSession, task: URLSessionTask, willPerformHTTPRedirection response: HTTPURLResponse,
        newRequest request: URLRequest, completionHandler: @escaping (URLRequest?) -> Void
    ) {
        guard let target = request.url?.absoluteString, isAllowed(target) else {
            fail()
            completionHandler(nil)
            return
        }
        completionHandler(request)
    }

    func urlSession(
        _ session: URLSession, dataTask: URLSessionDataTask, didReceive response: URLResponse,
        completionHandler: @escaping (URLSession.ResponseDisposition) -> Void
    ) {
        let status = (response as? HTTPURLResponse)?.statusCode ?? 0
        if !(200..<300).contains(status) || response.expectedContentLength > Int64(maxBytes) {
            fail()
            completionHandler(.cancel)
            return
        }
        completionHandler(.allow)
    }

    func urlSession(_ session: URLSession, dataTask: URLSessionDataTask, didReceive data: Data) {
        let overLimit = lock.withLock { () -> Bool in
            received += data.count
            return received > maxBytes
        }
        if overLimit {
            fail()
            dataTask.cancel()
            return
        }
        file.write(data)
    }

    func urlSession(_ session: URLSession, task: URLSessionTask, didCompleteWithError error: (any Error)?) {
        lock.withLock {
            completed = true
            if error != nil { failed = true }
        }
        done.signal()
    }
}
