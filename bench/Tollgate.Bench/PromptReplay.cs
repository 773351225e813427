using System.Globalization;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using Tollgate.Configuration;
using Tollgate.Gateway;

namespace Tollgate.Bench;

/// <summary>
/// <c>--replay-prompts PATH</c>: sends the first user turn of every conversation in a ShareGPT-format file
/// (<c>[{id, conversations:[{from, value}]}]</c>) through a gateway with the exact response cache on, in file order, to
/// the built-in mock provider priced as gpt-4o-mini, and reports how many were answered from the cache and what that
/// saved. Also counts the prompts that differ only in case, spaces and punctuation: what an exact cache misses and a
/// normalising one would catch.
/// </summary>
internal static class PromptReplay
{
    private const string MasterKey = "sk-bench-master";

    public static async Task RunAsync(string path)
    {
        var c = CultureInfo.InvariantCulture;
        using var document = JsonDocument.Parse(await File.ReadAllBytesAsync(path));
        var prompts = document.RootElement.EnumerateArray()
            .Select(conversation => conversation.GetProperty("conversations").EnumerateArray().FirstOrDefault())
            .Where(turn => turn.ValueKind == JsonValueKind.Object && turn.GetProperty("from").GetString() == "human")
            .Select(turn => turn.GetProperty("value").GetString() ?? string.Empty)
            .ToList();

        var directory = Path.Combine(Path.GetTempPath(), "tollgate-replay-" + Guid.NewGuid().ToString("N"));
        var config = ConfigLoader.Parse("""
            cache: { exact: { ttl_seconds: 86400 } }
            models:
              - { alias: chat, provider: mock, model: mock-gpt, price_as: gpt-4o-mini, mock: { latency_ms: 0, chunk_delay_ms: 0, reply_tokens: 200 } }
            """, "bench", _ => null) with
        {
            Listen = new Uri("http://127.0.0.1:0"),
            BindUrls = null,
            Storage = new StorageConfig(directory, Path.Combine(directory, "ledger.db")),
        };
        await using var gateway = GatewayHost.Build(config, MasterKey);
        await gateway.StartAsync();
        using var http = new HttpClient { BaseAddress = new Uri(gateway.Urls.First()) };
        http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", MasterKey);

        int hits = 0, misses = 0, errors = 0;
        decimal paid = 0, saved = 0;
        foreach (var prompt in prompts)
        {
            var body = JsonSerializer.Serialize(new { model = "chat", messages = new[] { new { role = "user", content = prompt } }, max_tokens = 200 });
            using var response = await http.PostAsync("/v1/chat/completions", new StringContent(body, Encoding.UTF8, "application/json"));
            if (!response.IsSuccessStatusCode)
            {
                errors++;
                continue;
            }

            var cache = response.Headers.TryGetValues("X-Tollgate-Cache", out var values) ? values.First() : string.Empty;
            if (cache == "hit")
            {
                hits++;
                saved += decimal.Parse(response.Headers.GetValues("X-Tollgate-Saved-USD").First(), c);
            }
            else
            {
                misses++;
                paid += decimal.Parse(response.Headers.GetValues("X-Tollgate-Cost-USD").First(), c);
            }
        }

        static string Folded(string text) => string.Concat(text.ToLowerInvariant().Where(char.IsLetterOrDigit));
        var foldedDuplicates = prompts.Count - prompts.Select(Folded).Distinct(StringComparer.Ordinal).Count();
        Console.WriteLine("| prompts | exact-cache hits | duplicate rate | paid | saved by hits | same after folding case, spaces, punctuation | errors |");
        Console.WriteLine("|---:|---:|---:|---:|---:|---:|---:|");
        Console.WriteLine(string.Create(c,
            $"| {prompts.Count:N0} | {hits:N0} | {hits / (double)Math.Max(1, prompts.Count):P2} | ${paid:0.######} | ${saved:0.######} | {foldedDuplicates:N0} | {errors} |"));
        await gateway.StopAsync();
        Directory.Delete(directory, recursive: true);
    }
}
