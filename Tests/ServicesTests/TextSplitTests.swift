import Foundation
import Services
import Testing

/// `SearchService.functionText`: which query texts are whole functions, split as ingest splits them
/// (and so embedded as the embed job embedded the stored function), and which are taken whole.
@Suite struct TextSplitTests {
    func split(_ text: String) -> [String]? {
        SearchService.functionText(text).map { [$0.signature, $0.body] }
    }

    @Test func wholeFunctionsSplitAsIngestSplitsThem() {
        #expect(split("def f(x):\n    return x\n") == ["def f(x):", "    return x"])
        #expect(split("@cache\n@other(1)\ndef f(x):\n    \"\"\"Doc.\"\"\"\n    return x\n") == ["@cache\n@other(1)\ndef f(x):\n    \"\"\"Doc.\"\"\"", "    return x"])
        #expect(split("async def g():\n    await h()\n") == ["async def g():", "    await h()"])
        #expect(split("def f(x): return x") == ["def f(x):", "return x"])
        // Blank and comment lines before it, and the outer function of nested ones.
        #expect(split("\n# helper\ndef outer():\n    def inner():\n        pass\n    return inner\n")
                == ["def outer():", "    def inner():\n        pass\n    return inner"])
        // A method pasted alone keeps its indentation, as ingest stores a method's text.
        #expect(split("    @property\n    def area(self):\n        return self.w * self.h\n")
                == ["    @property\n    def area(self):", "        return self.w * self.h"])
    }

    @Test func otherTextsAreTakenWhole() {
        #expect(split("def read_json(path):") == nil)                 // a signature: no body
        #expect(split("def f(x):\n    \"\"\"Only a docstring.\"\"\"") == ["def f(x):\n    \"\"\"Only a docstring.\"\"\"", ""])
        #expect(split("    return x + 1\n") == nil)                     // a body
        #expect(split("    x = 1\n    def inner():\n        pass\n") == nil)  // a body holding a def
        #expect(split("import json\ndef f():\n    pass\n") == nil)      // code before the def
        #expect(split("class A:\n    def m(self):\n        pass\n") == nil)
        #expect(split("def broken(:\n    pass\n") == nil)               // not Python
        #expect(split("") == nil && split("\n  \n# c\n") == nil)
    }
}
