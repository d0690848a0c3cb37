import EmberCore
import Testing

@Suite struct PythonExecutableConfigurationTests {
    @Test func theInterpreterComesFromTheFileOrItsVariable() throws {
        #expect(try ServerConfiguration(properties: "", environment: [:]).pythonExecutable == nil)
        let file = try ServerConfiguration(properties: "python_executable=/opt/py/bin/python", environment: [:])
        #expect(file.pythonExecutable == "/opt/py/bin/python")
        #expect(file.unknownKeys.isEmpty)
        #expect(file.propertyEntries.contains { $0 == ("python_executable", "/opt/py/bin/python") })
        let variable = try ServerConfiguration(
            properties: "enable_envvars_config=true\npython_executable=/a", environment: ["TS_PYTHON_EXECUTABLE": "/b"])
        #expect(variable.pythonExecutable == "/b")
    }
}
