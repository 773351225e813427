using System.Text;
using System.Text.Json.Nodes;
using CsCheck;

namespace Tollgate.Tests.Support;

/// <summary>One generated request meant to break the gateway: what it calls, with which headers and body bytes.</summary>
internal sealed record HostileRequest(string Method, string Path, byte[]? Body, IReadOnlyList<(string Name, string Value)> Headers, bool UseVirtualKey, string Description)
{
    public override string ToString() => Description;
}

/// <summary>
/// Generates hostile requests for every endpoint: valid bodies of each endpoint with fields replaced or added with
/// wrong types, extreme numbers, lone surrogates, invalid UTF-8, 1 MB words, deep nesting and huge arrays; hostile
/// attribution, idempotency, protocol and auth headers; hostile query strings on the admin and analytics reads.
/// The aliases it names (<c>gpt-4o-mini</c>, <c>claude</c>, <c>gemini</c>, <c>mock-gpt</c>, <c>embed</c>) must exist.
/// </summary>
internal static class HostileRequests
{
    private const string Marker = "HOSTILE#";

    /// <summary>Endpoints with a JSON body, each with a valid body to start from.</summary>
    private static readonly (string Method, string Path, string Seed)[] BodyEndpoints =
    [
        ("POST", "/v1/chat/completions", Chat("gpt-4o-mini", stream: false)),
        ("POST", "/v1/chat/completions", Chat("gpt-4o-mini", stream: true)),
        ("POST", "/v1/chat/completions", Chat("claude", stream: false)),
        ("POST", "/v1/chat/completions", Chat("claude", stream: true)),
        ("POST", "/v1/chat/completions", Chat("gemini", stream: false)),
        ("POST", "/v1/chat/completions", Chat("gemini", stream: true)),
        ("POST", "/v1/chat/completions", Chat("mock-gpt", stream: true)),
        ("POST", "/v1/chat/completions", Chat("routed", stream: false)),
        ("POST", "/v1/chat/completions", Chat("routed", stream: true)),
        ("POST", "/chat/completions", Chat("mock-gpt", stream: false)),
        ("POST", "/v1/completions", """{"model":"gpt-4o-mini","prompt":["Xin chào","hello"],"max_tokens":20,"n":1,"best_of":2,"echo":false,"logprobs":1,"suffix":"!","user":"u1","stream":false}"""),
        ("POST", "/v1/completions", """{"model":"gpt-4o-mini","prompt":[[1,2,3]],"max_tokens":20,"stream":true,"stream_options":{"include_usage":true}}"""),
        ("POST", "/v1/responses", """{"model":"gpt-4o-mini","instructions":"Be brief.","input":[{"role":"user","content":[{"type":"input_text","text":"Xin chào 👋"},{"type":"input_image","image_url":"data:image/png;base64,iVBORw0KGgo="}]},{"type":"function_call_output","call_id":"c1","output":"42"}],"max_output_tokens":20,"store":false,"reasoning":{"effort":"low"},"text":{"format":{"type":"text"}},"tools":[{"type":"function","name":"f","parameters":{"type":"object"}}],"user":"u1","metadata":{"feature":"chat"},"stream":false}"""),
        ("POST", "/v1/responses", """{"model":"gpt-4o-mini","input":"Xin chào","stream":true}"""),
        ("POST", "/v1/responses", """{"model":"gpt-4o-mini","input":"Tin tức?","max_tool_calls":3,"tools":[{"type":"web_search"},{"type":"file_search","vector_store_ids":["vs_1"]},{"type":"code_interpreter","container":{"type":"auto"}}]}"""),
        ("POST", "/v1/responses", """{"model":"claude","input":"Xin chào"}"""),
        ("POST", "/v1/responses", """{"model":"claude","instructions":"Ngắn gọn.","stream":true,"max_output_tokens":30,"input":[{"role":"user","content":[{"type":"input_text","text":"Thời tiết?"},{"type":"input_image","image_url":"data:image/png;base64,iVBORw0KGgo="}]},{"type":"function_call","call_id":"c1","name":"w","arguments":"{}"},{"type":"function_call_output","call_id":"c1","output":"31°C"}],"tools":[{"type":"function","name":"w","parameters":{"type":"object"}}],"tool_choice":{"type":"function","name":"w"},"text":{"format":{"type":"json_schema","name":"a","schema":{"type":"object"}}},"reasoning":{"effort":"low"}}"""),
        ("POST", "/v1/responses", """{"model":"gemini","input":[{"role":"developer","content":"Be brief."},{"role":"assistant","content":[{"type":"output_text","text":"Hi"}]},{"role":"user","content":"Again"}],"stream":false}"""),
        ("POST", "/v1/embeddings", """{"model":"embed","input":["Xin chào","hello"],"encoding_format":"float","dimensions":3,"user":"u1"}"""),
        ("POST", "/v1/embeddings", """{"model":"mock-gpt","input":"one text"}"""),
        ("POST", "/v1/messages", Messages(stream: false)),
        ("POST", "/v1/messages", Messages(stream: true)),
        ("POST", "/v1/cost/estimate", Chat("gpt-4o-mini", stream: false)),
        ("POST", "/v1/cost/estimate", Chat("claude", stream: false)),
        ("POST", "/v1/outcomes", """{"request_id":"req_1","conversions":1,"revenue_usd":0.5,"user":"u1","feature":"chat","at":"2026-11-01T00:00:00Z"}"""),
        ("PUT", "/admin/budgets/fuzz", """{"scope":"feature","value":"fuzz","period":"daily","limit_usd":25,"hard":false}"""),
        ("POST", "/admin/keys", """{"name":"fuzz","models":["gpt-4o-mini"],"max_tokens":100,"default_max_tokens":50,"tags":{"team":"a"},"lock_tags":false,"expires_in_days":3,"rpm":100,"tpm":1000}"""),
        ("POST", "/admin/analytics/anomalies/check", "{}"),
        ("POST", "/v1/batches", """{"input_file_id":"file-000001","endpoint":"/v1/chat/completions","completion_window":"24h","metadata":{"feature":"nightly","user":"u1"}}"""),
        ("POST", "/v1/messages/batches", """{"requests":[{"custom_id":"r-1","params":""" + Messages(stream: false) + """},{"custom_id":"r-2","params":{"model":"claude","max_tokens":16,"messages":[{"role":"user","content":"Xin chào"}]}}]}"""),
    ];

    /// <summary>A batch file's line, mutated like a body and sent as a multipart upload.</summary>
    private static readonly string BatchLine = """{"custom_id":"line-1","method":"POST","url":"/v1/chat/completions","body":""" + Chat("gpt-4o-mini", stream: false) + "}";

    private const string Boundary = "hostile-boundary-7e3f";

    /// <summary>Reads whose query strings are generated.</summary>
    private static readonly (string Method, string Path, string[] Parameters)[] QueryEndpoints =
    [
        ("GET", "/admin/analytics/spend", ["from", "to", "group_by", "interval", "format"]),
        ("GET", "/ui/api/spend", ["from", "to", "group_by", "interval"]),
        ("GET", "/admin/analytics/top-requests", ["from", "to", "limit", "format"]),
        ("GET", "/admin/analytics/records", ["from", "to", "format", "limit"]),
        ("GET", "/admin/analytics/forecast", ["from", "to", "format"]),
        ("GET", "/admin/analytics/anomalies", ["from", "to", "format"]),
        ("GET", "/admin/analytics/unit-economics", ["from", "to", "format", "group_by"]),
        ("GET", "/admin/analytics/advice", ["from", "to", "format"]),
        ("POST", "/admin/analytics/digest", ["every"]),
        ("GET", "/admin/keys/{x}", []),
        ("POST", "/admin/keys/{x}/rotate", ["grace_seconds"]),
        ("POST", "/admin/keys/{x}/revoke", []),
        ("GET", "/admin/budgets/{x}", []),
        ("GET", "/admin/budgets", []),
        ("GET", "/admin/cache", []),
        ("GET", "/v1/responses/resp_fake1", []),
        ("GET", "/v1/responses/resp_fake1/input_items", ["limit", "order", "after"]),
        ("DELETE", "/v1/responses/resp_fake1", []),
        ("POST", "/v1/responses/resp_fake1/cancel", []),
        ("DELETE", "/admin/cache", ["scope", "alias", "older_than"]),
        ("GET", "/v1/batches", ["limit", "after"]),
        ("GET", "/v1/batches/{x}", []),
        ("POST", "/v1/batches/{x}/cancel", []),
        ("GET", "/v1/files/{x}", []),
        ("GET", "/v1/files/{x}/content", []),
        ("DELETE", "/v1/files/{x}", []),
        ("GET", "/v1/messages/batches", ["limit", "after_id", "before_id"]),
        ("GET", "/v1/messages/batches/{x}", []),
        ("GET", "/v1/messages/batches/{x}/results", []),
        ("POST", "/v1/messages/batches/{x}/cancel", []),
        ("DELETE", "/v1/messages/batches/{x}", []),
        ("GET", "/v1/models", []),
        ("GET", "/models", []),
        ("GET", "/metrics", []),
        ("GET", "/healthz", []),
        ("GET", "/ui", []),
        ("GET", "/v1/{x}", []),
    ];

    /// <summary>Fields the gateway or a translator reads, added at the top level when a mutation adds rather than replaces.</summary>
    private static readonly string[] AddedFields =
    [
        "model", "messages", "stream", "stream_options", "max_tokens", "max_completion_tokens", "n", "best_of", "user", "metadata",
        "tools", "functions", "tool_choice", "response_format", "prediction", "input", "system", "temperature", "top_p", "stop", "seed",
        "thinking", "dimensions", "encoding_format", "logprobs", "top_logprobs", "reasoning_effort", "modalities", "audio",
        "prompt", "suffix", "echo", "instructions", "max_output_tokens", "previous_response_id", "store", "reasoning", "text",
        "custom_id", "method", "url", "body", "input_file_id", "endpoint", "completion_window", "requests", "params", "max_tool_calls",
    ];

    /// <summary>Hostile JSON values, as raw JSON text (so that the body can hold what a JSON library would not write).</summary>
    private static readonly string[] Values =
    [
        "0", "-1", "1.5", "2.5", "1e30", "1e300", "-1e300", "9223372036854775808", "18446744073709551616", "1e-300", "-0", "128", "129",
        "2147483648", "100000", "1E2", "true", "false", "null", "[]", "{}", "[null]", "[1,\"a\",null,{}]", "{\"a\":{\"b\":[]}}",
        "\"\"", "\" \"", "\"\\u0000\"", "\"\\ud800\"", "\"x\\udc00y\"", "\"\\udc00\\ud800\"", "\"\\ud83d\\ude00\"", "\"\\r\\nX-Injected: 1\"",
        "\"sk-upstream-secret\"", "\"Xin chào 👋\"", "\"" + new string('x', 300) + "\"", "\"\\\\u00\"", "{\"type\":\"text\",\"text\":\"\\ud800\"}",
        "[{\"type\":\"image_url\",\"image_url\":{\"url\":\"data:image/png;base64," + new string('A', 2000) + "\"}}]",
        "[{\"type\":\"text\"}]", "[{\"type\":\"text\",\"text\":5}]", "[{\"role\":5,\"content\":[]}]", "[{\"role\":\"user\"}]",
        "[{\"role\":\"user\",\"content\":{\"a\":1}}]", "[{\"role\":\"assistant\",\"tool_calls\":\"x\"}]", "[\"x\"]", "[[]]",
        "[{\"type\":\"function\",\"function\":5}]", "[{\"type\":\"function\",\"function\":{\"name\":\"f\",\"parameters\":\"x\"}}]",
        "{\"type\":\"json_schema\",\"json_schema\":5}", "{\"include_usage\":\"yes\"}", "{\"include_usage\":true}",
        "{\"type\":\"enabled\",\"budget_tokens\":1e300}", "{\"type\":\"content\",\"content\":5}",
        Marker + "bad-utf8", Marker + "word-100k", Marker + "deep-100", Marker + "wide-array",
    ];

    /// <summary>Values expensive to send, drawn rarely.</summary>
    private static readonly string[] LargeValues = [Marker + "word-1m", Marker + "deep-100k", Marker + "wide-object", Marker + "word-1m-upper"];

    private static readonly string[] QueryValues =
    [
        "", "abc", "-1", "0", "1e300", "99999999999999999999", "%00", "2026-13-45", "7d", "100000d", "9999999999h", "-5d", "2147483647d", "999999999w", "2147483647m", "../etc",
        "%E2%98%83", "%ff%fe", "%ed%a0%80", "model", "tag:", "tag:team", "json", "csv", "xml", "hour", "day", "none", "2026-11-01T25:00:00Z",
        "key_" + new string('z', 300), "%0d%0aX-Injected:%201",
    ];

    private static readonly (string Name, string Value)[] HeaderValues =
    [
        ("X-User-ID", new string('u', 300)), ("X-User-ID", " "), ("X-User-ID", "Nguyễn Văn Anh"), ("X-Session-ID", "😀"),
        ("X-Tags", "a"), ("X-Tags", "=x"), ("X-Tags", "a=b=c"), ("X-Tags", string.Concat(Enumerable.Range(0, 100).Select(i => $"k{i}=v,"))),
        ("X-Tags", "team=" + new string('t', 300)), ("X-Feature", " "), ("X-Feature", "fuzz"), ("X-Cost-Center", "cc/1"),
        ("Idempotency-Key", ""), ("Idempotency-Key", new string('i', 300)), ("Idempotency-Key", "fuzz-1"), ("Idempotency-Key", "fuzz-2"),
        ("anthropic-version", "garbage"), ("anthropic-beta", new string('b', 1000)), ("Content-Type", "text/plain"),
        ("Content-Type", "application/json; charset=latin1"), ("Authorization", "Bearer " + new string('x', 5000)),
        ("Authorization", "Basic !!!"), ("Authorization", "Bearer"), ("Authorization", "Basic " + Convert.ToBase64String("a:"u8.ToArray())),
        ("x-api-key", "sk-wrong"), ("X-Tags", "k=v"), ("X-Env", new string('e', 257)),
    ];

    /// <summary>All hostile requests, each from a few small integers so that CsCheck can shrink a failing one.</summary>
    public static Gen<HostileRequest> All { get; } =
        Gen.Frequency(
            (6, BodyRequest()),
            (1, BatchFileRequest()),
            (1, QueryRequest()));

    /// <summary>
    /// A batch file upload: one to three lines, each a valid batch line with hostile mutations, in a multipart form
    /// (sometimes with the wrong purpose, no file part, or a line that is not JSON).
    /// </summary>
    private static Gen<HostileRequest> BatchFileRequest() =>
        Gen.Select(
            Gen.Select(Gen.Int[0, 1000], Gen.Int[0, 1000], Gen.Int[0, 2]).Array[0, 3].Array[1, 3],
            Headers(),
            Gen.Int[0, 19])
        .Select((lines, headers, flags) =>
        {
            var description = new StringBuilder("POST /v1/files (batch lines:");
            var content = new List<byte>();
            foreach (var mutations in lines)
            {
                var line = JsonNode.Parse(BatchLine)!;
                foreach (var (where, what, how) in mutations)
                {
                    description.Append(Mutate(line, where, Values[what % Values.Length], how));
                }

                description.Append(" |");
                content.AddRange(Expand(Encoding.UTF8.GetBytes(line.ToJsonString())));
                content.Add((byte)'\n');
            }

            var purpose = flags == 1 ? "fine-tune" : "batch";
            var file = flags == 2 ? "notfile" : "file";
            if (flags == 3)
            {
                content.AddRange("{not json\n"u8.ToArray());
            }

            var form = new List<byte>();
            form.AddRange(Encoding.UTF8.GetBytes($"--{Boundary}\r\nContent-Disposition: form-data; name=\"purpose\"\r\n\r\n{purpose}\r\n"));
            form.AddRange(Encoding.UTF8.GetBytes($"--{Boundary}\r\nContent-Disposition: form-data; name=\"{file}\"; filename=\"in.jsonl\"\r\nContent-Type: application/jsonl\r\n\r\n"));
            form.AddRange(content);
            form.AddRange(Encoding.UTF8.GetBytes($"\r\n--{Boundary}--\r\n"));
            description.Append($") purpose={purpose}, part={file}{(flags == 3 ? ", a line not JSON" : string.Empty)}");
            (string, string)[] withType = [("Content-Type", $"multipart/form-data; boundary={Boundary}"), .. headers];
            return new HostileRequest("POST", "/v1/files", [.. form], withType, flags % 2 == 1, description + HeaderText(headers));
        });

    private static Gen<HostileRequest> BodyRequest() =>
        Gen.Select(
            Gen.Int[0, BodyEndpoints.Length - 1],
            Gen.Select(Gen.Int[0, 1000], Gen.Int[0, 1000], Gen.Int[0, 2]).Array[0, 3],
            Gen.Frequency((40, Gen.Const(-1)), (1, Gen.Int[0, LargeValues.Length - 1])),
            Headers(),
            Gen.Int[0, 9])
        .Select((endpoint, mutations, large, headers, flags) =>
        {
            var (method, path, seed) = BodyEndpoints[endpoint];
            var body = JsonNode.Parse(seed)!;
            var description = new StringBuilder($"{method} {path} from {Shorten(seed)}");
            foreach (var (where, what, how) in mutations)
            {
                description.Append(Mutate(body, where, Values[what % Values.Length], how));
            }

            if (large >= 0)
            {
                description.Append(Mutate(body, mutations.Length, LargeValues[large], 0));
            }

            var bytes = Encoding.UTF8.GetBytes(body.ToJsonString());
            bytes = Expand(bytes);
            if (flags == 0)
            {
                // Invalid UTF-8 outside any marker: a byte that can never start a character, in the first string.
                var quote = Array.IndexOf(bytes, (byte)'"');
                bytes = quote < 0 ? bytes : [.. bytes[..(quote + 1)], 0xC0, 0xAF, .. bytes[(quote + 1)..]];
                description.Append("; overlong UTF-8 in the first string");
            }

            return new HostileRequest(method, path, bytes, headers, flags % 2 == 1, description + HeaderText(headers));
        });

    private static Gen<HostileRequest> QueryRequest() =>
        Gen.Select(Gen.Int[0, QueryEndpoints.Length - 1], Gen.Int[0, QueryValues.Length - 1].Array[5], Headers(), Gen.Bool)
        .Select((endpoint, values, headers, virtualKey) =>
        {
            var (method, path, parameters) = QueryEndpoints[endpoint];
            // Kestrel itself refuses a NUL in the path, before the gateway sees the request (docs/RESILIENCE.md says so; a test of its own).
            var segment = QueryValues[values[4]] is { Length: > 0 } value && !value.Contains("%00", StringComparison.Ordinal) ? value : "x";
            path = path.Replace("{x}", segment, StringComparison.Ordinal);
            var query = string.Join("&", parameters.Select((name, i) => name + "=" + QueryValues[values[i % 4]]));
            var target = query.Length == 0 ? path : path + "?" + query;
            return new HostileRequest(method, target, null, headers, virtualKey, method + " " + target + HeaderText(headers));
        });

    private static Gen<(string Name, string Value)[]> Headers() =>
        Gen.Frequency((3, Gen.Const(Array.Empty<(string, string)>())), (2, Gen.Int[0, HeaderValues.Length - 1].Array[1, 2].Select(i => i.Select(j => HeaderValues[j]).ToArray())));

    /// <summary>Replaces the <paramref name="where"/>-th node of the body (in document order), or adds a known field, with a hostile value.</summary>
    private static string Mutate(JsonNode body, int where, string value, int how)
    {
        var placeholder = JsonValue.Create(Marker + Escape(value));
        var nodes = new List<(JsonNode Parent, string? Name, int Index)>();
        Walk(body, nodes);
        if (how == 2 || nodes.Count == 0)
        {
            var field = AddedFields[where % AddedFields.Length];
            if (body is JsonObject root)
            {
                root[field] = placeholder;
            }

            return $"; {field} = {Shorten(value)}";
        }

        var (parent, name, index) = nodes[where % nodes.Count];
        if (name is not null)
        {
            ((JsonObject)parent)[name] = placeholder;
        }
        else
        {
            ((JsonArray)parent)[index] = placeholder;
        }

        return $"; {Path(parent)}{(name is null ? $"[{index}]" : "." + name)} = {Shorten(value)}";
    }

    private static void Walk(JsonNode node, List<(JsonNode Parent, string? Name, int Index)> nodes)
    {
        switch (node)
        {
            case JsonObject obj:
                foreach (var (name, child) in obj.ToList())
                {
                    nodes.Add((obj, name, -1));
                    if (child is not null)
                    {
                        Walk(child, nodes);
                    }
                }

                break;
            case JsonArray array:
                for (var i = 0; i < array.Count; i++)
                {
                    nodes.Add((array, null, i));
                    if (array[i] is { } child)
                    {
                        Walk(child, nodes);
                    }
                }

                break;
        }
    }

    private static string Path(JsonNode node) => node.GetPath();

    /// <summary>Puts the raw hostile values in place of their placeholders (quoted marker strings) in the body's bytes.</summary>
    private static byte[] Expand(byte[] json)
    {
        var text = Encoding.UTF8.GetString(json);
        var start = "\"" + Marker;
        if (!text.Contains(start, StringComparison.Ordinal))
        {
            return json;
        }

        using var output = new MemoryStream();
        var at = 0;
        while (text.IndexOf(start, at, StringComparison.Ordinal) is var open and >= 0)
        {
            output.Write(Encoding.UTF8.GetBytes(text[at..open]));
            var close = text.IndexOf('"', open + start.Length);
            output.Write(Raw(Unescape(text[(open + start.Length)..close])));
            at = close + 1;
        }

        output.Write(Encoding.UTF8.GetBytes(text[at..]));
        return output.ToArray();
    }

    private static byte[] Raw(string value) => (value.StartsWith(Marker, StringComparison.Ordinal) ? value[Marker.Length..] : value) switch
    {
        "bad-utf8" => [.. "\"abc"u8, 0xFF, 0xFE, .. "def"u8, 0xED, 0xA0, 0x80, .. "\""u8],
        "word-100k" => Encoding.UTF8.GetBytes("\"" + new string('a', 100_000) + "\""),
        "word-1m" => Encoding.UTF8.GetBytes("\"" + Word(1_000_000) + "\""),
        "word-1m-upper" => Encoding.UTF8.GetBytes("\"" + new string('Ư', 500_000) + "\""),
        "deep-100" => Encoding.UTF8.GetBytes(new string('[', 100) + new string(']', 100)),
        "deep-100k" => Encoding.UTF8.GetBytes(new string('[', 100_000) + new string(']', 100_000)),
        "wide-array" => Encoding.UTF8.GetBytes("[" + string.Join(",", Enumerable.Repeat("0", 100_000)) + "]"),
        "wide-object" => Encoding.UTF8.GetBytes("{" + string.Join(",", Enumerable.Range(0, 20_000).Select(i => $"\"k{i}\":\"v\"")) + "}"),
        var plain => Encoding.UTF8.GetBytes(plain),
    };

    /// <summary>A single word of letters that tiktoken cannot merge into a few tokens.</summary>
    private static string Word(int length)
    {
        var random = new Random(length);
        return string.Create(length, random, (span, r) =>
        {
            for (var i = 0; i < span.Length; i++)
            {
                span[i] = (char)('a' + r.Next(26));
            }
        });
    }

    // The placeholder is a JSON string; its raw value must survive JSON escaping, so it is carried base64-encoded.
    private static string Escape(string value) => Convert.ToBase64String(Encoding.UTF8.GetBytes(value)).Replace('+', '-').Replace('/', '_');

    private static string Unescape(string value) => Encoding.UTF8.GetString(Convert.FromBase64String(value.Replace('-', '+').Replace('_', '/')));

    private static string Shorten(string value) => value.Length <= 80 ? value : value[..60] + $"…({value.Length} chars)";

    private static string HeaderText((string Name, string Value)[] headers) =>
        headers.Length == 0 ? string.Empty : "; headers " + string.Join(", ", headers.Select(h => $"{h.Name}: {Shorten(h.Value)}"));

    private static string Chat(string model, bool stream) => """
        {"model":"@MODEL@","stream":@STREAM@,"stream_options":@OPTIONS@,"max_tokens":20,"n":1,"temperature":0.5,"stop":["\n\n"],"user":"u1","metadata":{"feature":"chat","team":"a"},"messages":[{"role":"system","content":"Be brief."},{"role":"user","content":[{"type":"text","text":"Xin chào 👋"},{"type":"image_url","image_url":{"url":"data:image/png;base64,iVBORw0KGgo=","detail":"low"}}]},{"role":"assistant","content":null,"tool_calls":[{"id":"call_1","type":"function","function":{"name":"f","arguments":"{\"a\":1}"}}]},{"role":"tool","tool_call_id":"call_1","content":"42"}],"tools":[{"type":"function","function":{"name":"f","description":"d","parameters":{"type":"object","properties":{"a":{"type":"integer"}}}}}],"tool_choice":"auto","response_format":{"type":"json_schema","json_schema":{"name":"s","schema":{"type":"object"}}}}
        """.Replace("@MODEL@", model, StringComparison.Ordinal).Replace("@STREAM@", stream ? "true" : "false", StringComparison.Ordinal)
        .Replace("@OPTIONS@", stream ? "{\"include_usage\":true}" : "null", StringComparison.Ordinal);

    private static string Messages(bool stream) => """
        {"model":"claude","max_tokens":20,"stream":@STREAM@,"system":[{"type":"text","text":"Be brief.","cache_control":{"type":"ephemeral"}}],"metadata":{"user_id":"u1"},"messages":[{"role":"user","content":[{"type":"text","text":"Xin chào"},{"type":"image","source":{"type":"base64","media_type":"image/png","data":"iVBORw0KGgo="}}]},{"role":"assistant","content":"Hi"},{"role":"user","content":"Again"}],"tools":[{"name":"f","description":"d","input_schema":{"type":"object"}}],"thinking":{"type":"enabled","budget_tokens":1024}}
        """.Replace("@STREAM@", stream ? "true" : "false", StringComparison.Ordinal);
}
