// Writes tiktoken-golden.json: token ids from js-tiktoken (the same ids as OpenAI's tiktoken) for a fixed test set.
// Run from the repository root after `npm ci`:  node tests/Tollgate.Tests/Metering/Fixtures/make-tiktoken-golden.cjs
const fs = require("fs");
const path = require("path");
const { Tiktoken } = require("js-tiktoken/lite");
const encodings = {
  o200k_base: new Tiktoken(require("js-tiktoken/ranks/o200k_base")),
  cl100k_base: new Tiktoken(require("js-tiktoken/ranks/cl100k_base")),
};
const texts = [
  "Hello, world! How are you doing today?",
  "The quick brown fox jumps over the lazy dog. It's 3:45pm and we've got 1,234,567 items; don't panic.",
  "I'M SURE THEY'LL SAY IT'S FINE, BUT WE'D BETTER CHECK.",
  "Xin chào! Tôi tên là Nguyễn Văn Anh. Hôm nay trời đẹp quá, chúng ta đi uống cà phê nhé?",
  "Tiếng Việt có dấu: ả ạ ằ ẵ ặ ề ể ễ ệ ỉ ị ọ ồ ổ ỗ ộ ớ ờ ở ỡ ợ ụ ừ ử ữ ự ỳ ỷ ỹ ỵ đ Đ",
  "def fibonacci(n: int) -> int:\n    if n < 2:\n        return n\n    return fibonacci(n - 1) + fibonacci(n - 2)\n",
  "for (let i = 0; i < arr.length; i++) {\n\tconsole.log(`item ${i}: ${arr[i]}`);\n}\r\n",
  "SELECT u.id, SUM(c.cost_usd) AS spend FROM usage_records c JOIN users u ON u.id = c.user_id GROUP BY 1;",
  "Emoji: 😀👍🏽🎉 family: 👨‍👩‍👧‍👦 flags: 🇻🇳🇺🇸 😀hello 👋world",
  "价格是多少？ 東京は晴れです。 안녕하세요 مرحبا بالعالم",
  "   leading spaces, trailing spaces   \n\n\n   multiple\n\nnewlines\t\ttabs",
  "numbers 1234567890 0.000001 3.14159 -42 1e10 2026-11-24T12:00:00Z",
  "https://example.com/path?query=value&other=1#fragment <tag attr=\"x\">text</tag>",
  "{\"model\":\"gpt-4o-mini\",\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}],\"max_tokens\":30}",
  "a".repeat(300) + " " + "ab".repeat(200),
  " ".repeat(100) + "x",
  "",
  // Long single pieces, merged by the heap path (pieces over 128 bytes) rather than the scan.
  randomWord(4000, 7),
  "đườngphốhànội".repeat(200),
  "!@#$%^&*()".repeat(300),
  "😀👍🏽🎉".repeat(200),
];

/** A word of lowercase letters from a fixed linear congruential sequence, so the fixture is reproducible. */
function randomWord(length, seed) {
  let state = seed;
  let word = "";
  for (let i = 0; i < length; i++) {
    state = (state * 1103515245 + 12345) % 2147483648;
    word += String.fromCharCode(97 + (state % 26));
  }
  return word;
}
const golden = texts.map((text) => ({
  text,
  o200k_base: encodings.o200k_base.encode(text),
  cl100k_base: encodings.cl100k_base.encode(text),
}));
fs.writeFileSync(path.join(__dirname, "tiktoken-golden.json"), JSON.stringify(golden, null, 1) + "\n");
console.log(`wrote ${golden.length} texts`);
