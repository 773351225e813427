using Tollgate.Configuration;
using Xunit;

namespace Tollgate.Tests.Configuration;

public sealed class ConfigLoaderTests
{
    private static GatewayConfig Parse(string yaml, params (string Name, string Value)[] environment) =>
        ConfigLoader.Parse(yaml, "test.yaml", name => environment.FirstOrDefault(e => e.Name == name).Value);

    [Fact]
    public void A_valid_config_resolves_secrets_defaults_and_prices()
    {
        var config = Parse("""
            listen: 0.0.0.0:8080
            master_key: ${TG_MASTER}
            models:
              - alias: fast
                provider: groq
                model: llama-3.1-8b-instant
                api_key: ${GROQ_KEY}
              - alias: local
                provider: vllm
                model: Qwen/Qwen2.5-7B-Instruct
                base_url: http://10.0.0.5:8000/v1
                price: { per_hour: 0.79 }
                timeout_seconds: 30
            """, ("TG_MASTER", "sk-master"), ("GROQ_KEY", "gsk-1"));

        Assert.Equal(new Uri("http://0.0.0.0:8080"), config.Listen);
        Assert.Equal("sk-master", config.MasterKey);
        Assert.Equal("gsk-1", config.Deployments[0].ApiKey);
        Assert.Equal(new Uri("https://api.groq.com/openai/v1"), config.Deployments[0].BaseUrl);
        Assert.Equal("groq/llama-3.1-8b-instant", config.Deployments[0].Name);
        Assert.Equal(0.79m, config.Deployments[1].Price!.UsdPerHour);
        Assert.Equal(TimeSpan.FromSeconds(30), config.Deployments[1].Timeouts.Total);
        Assert.Equal(Path.Combine("data", "tollgate.db"), config.Storage.SqlitePath);
    }

    [Fact]
    public void Every_error_is_listed_not_just_the_first()
    {
        var ex = Assert.Throws<ConfigException>(() => Parse("""
            listen: "ftp://nowhere"
            colour: blue
            models:
              - alias: a
                provider: openia
                model: gpt-4o
              - provider: openai
                model: gpt-4o
                api_key: ${MISSING_KEY}
                price: { input_per_million: 1 }
              - alias: c
                provider: vllm
                model: m
                timeout_seconds: -5
                price: { per_hour: 1, output_per_million: 2 }
            """));

        Assert.Contains(ex.Errors, e => e.StartsWith("listen:", StringComparison.Ordinal));
        Assert.Contains(ex.Errors, e => e.StartsWith("colour: unknown key", StringComparison.Ordinal));
        Assert.Contains(ex.Errors, e => e.StartsWith("models[0].provider: unknown provider 'openia'", StringComparison.Ordinal));
        Assert.Contains(ex.Errors, e => e == "models[1].alias: is required");
        Assert.Contains(ex.Errors, e => e == "models[1].api_key: environment variable MISSING_KEY is not set");
        Assert.Contains(ex.Errors, e => e.StartsWith("models[1].price: needs both", StringComparison.Ordinal));
        Assert.Contains(ex.Errors, e => e == "models[2].base_url: is required for provider 'vllm'");
        Assert.Contains(ex.Errors, e => e.StartsWith("models[2].timeout_seconds:", StringComparison.Ordinal));
        Assert.Contains(ex.Errors, e => e == "models[2].price: per_hour cannot be combined with per-token prices");
        Assert.Equal(9, ex.Errors.Count);
        Assert.Contains("models[1].api_key", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Router_settings_are_checked_and_each_mistake_is_named()
    {
        const string Models = "models:\n  - { alias: a, provider: openai, model: gpt-4o-mini, api_key: k }\n  - { alias: b, provider: openai, model: gpt-4o, api_key: k }\n";
        var ex = Assert.Throws<ConfigException>(() => Parse("""
            routers:
              a:
                targets: [a, b]
              r:
                targets: [a, c]
                sticky: forever
                reference: z
                rules:
                  - { name: any, target: a }
                  - { name: bad, regex: "([", target: a }
                  - { name: elsewhere, feature: f, target: c }
                weights: { a: 0, b: 0 }
            """ + "\n" + Models));

        // Checked against the aliases once the file reads cleanly.
        var targets = Assert.Throws<ConfigException>(() => Parse("""
            routers:
              a:
                targets: [a, b]
              r:
                targets: [a, c]
                reference: z
                rules:
                  - { name: elsewhere, feature: f, target: d }
                weights: { a: 0, b: 0 }
            """ + "\n" + Models));
        var ok = Parse("routers:\n  r:\n    targets: [a, b]\n    sticky: session\n    rules:\n      - { name: short, max_chars: 200, target: a }\n    weights: { a: 95, b: 5 }\n" + Models);

        Assert.Contains(ex.Errors, e => e.StartsWith("routers.r.sticky: 'forever' is not one of", StringComparison.Ordinal));
        Assert.Contains(ex.Errors, e => e.Contains("rule 'any' has no condition", StringComparison.Ordinal));
        Assert.Contains(ex.Errors, e => e.Contains("regex: is not a regular expression", StringComparison.Ordinal));
        Assert.DoesNotContain(ex.Errors, e => e.Contains("rule 'bad' has no condition", StringComparison.Ordinal));
        Assert.Contains(targets.Errors, e => e == "routers.a: 'a' is already a model alias: a router needs a name of its own");
        Assert.Contains(targets.Errors, e => e == "routers.r.targets: 'c' is not a configured model alias");
        Assert.Contains(targets.Errors, e => e == "routers.r.reference: 'z' is not one of the router's targets");
        Assert.Contains(targets.Errors, e => e == "routers.r.rules: rule 'elsewhere' sends to 'd', which is not one of the router's targets");
        Assert.Contains(targets.Errors, e => e == "routers.r.weights: at least one weight must be above 0");
        var router = Assert.Single(ok.Routers);
        Assert.Equal(Tollgate.Routing.StickyBy.Session, router.Sticky);
        Assert.Equal(200, router.Rules.Single().MaxChars);
        Assert.Equal(5m, router.Weights.Single(w => w.Target == "b").Weight);
    }

    [Fact]
    public void Cache_settings_are_checked_and_each_mistake_is_named()
    {
        const string Models = "models:\n  - { alias: a, provider: openai, model: gpt-4o-mini, api_key: k }\n";
        var ex = Assert.Throws<ConfigException>(() => Parse("""
            cache:
              exact: { scope: team, enabled: maybe }
              semantic: { embedder: bert, threshold: 0.9, max_error_rate: 1.5 }
            """ + "\n" + Models));
        var noExact = Assert.Throws<ConfigException>(() => Parse("cache:\n  semantic: { aliases: [a], threshold: 0.91 }\n" + Models));
        var ok = Parse("cache:\n  exact: { ttl_seconds: 60, max_mb: 8, scope: tag:team, aliases: [a] }\n  semantic: { keys: [key_1], max_error_rate: 0.05 }\n" + Models);
        var unknownAlias = Assert.Throws<ConfigException>(() => Parse("cache:\n  exact: {}\n  semantic: { aliases: [a], embedder: \"alias:emb\", threshold: 0.9 }\n" + Models));
        var viaAlias = Parse("cache:\n  exact: {}\n  semantic: { aliases: [a], embedder: \"alias:a\", threshold: 0.9 }\n" + Models);

        Assert.Contains(ex.Errors, e => e.StartsWith("cache.exact.scope: 'team' is not one of", StringComparison.Ordinal));
        Assert.Contains(ex.Errors, e => e.StartsWith("cache.exact.enabled:", StringComparison.Ordinal));
        Assert.Contains(ex.Errors, e => e.StartsWith("cache.semantic: name the aliases, features or keys", StringComparison.Ordinal));
        Assert.Contains(ex.Errors, e => e.StartsWith("cache.semantic.embedder: 'bert'", StringComparison.Ordinal));
        Assert.Contains(ex.Errors, e => e.StartsWith("cache.semantic.max_error_rate: 1.5 is not between 0 and 1", StringComparison.Ordinal));
        Assert.Contains(ex.Errors, e => e.StartsWith("cache.semantic: give either threshold", StringComparison.Ordinal));
        Assert.Contains(noExact.Errors, e => e.StartsWith("cache.semantic: the semantic cache keeps its answers in the exact cache", StringComparison.Ordinal));
        Assert.Equal(TimeSpan.FromSeconds(60), ok.ResponseCache.Ttl);
        Assert.Equal(8L * 1024 * 1024, ok.ResponseCache.MaxBytes);
        Assert.Equal("tag:team", ok.ResponseCache.Scope.ToString());
        Assert.True(ok.SemanticCache.Covers("b", null, "key_1"));
        Assert.Equal(0.05, ok.SemanticCache.MaxErrorRate);
        Assert.Equal("cache.semantic.embedder: 'emb' is not a configured model alias", Assert.Single(unknownAlias.Errors));
        Assert.Equal("alias:a", viaAlias.SemanticCache.Embedder);
    }

    [Fact]
    public void A_pair_model_must_be_a_readable_model_of_the_semantic_caches_embedder()
    {
        const string Models = "models:\n  - { alias: a, provider: openai, model: gpt-4o-mini, api_key: k }\n";
        var lexical = Tollgate.Tests.Optimization.PairModelTests.ConstantJudge(0);
        var missing = Path.Combine(Path.GetTempPath(), $"no-such-judge-{Guid.NewGuid():N}.json");
        string Semantic(string embedder, string model) => $"cache:\n  exact: {{}}\n  semantic: {{ aliases: [a], embedder: {embedder}, threshold: 0.9, pair_model: {model} }}\n" + Models;

        var ok = Parse(Semantic("lexical", lexical));
        var otherEmbedder = Assert.Throws<ConfigException>(() => Parse(Semantic("minilm", lexical)));
        var notThere = Assert.Throws<ConfigException>(() => Parse(Semantic("lexical", missing)));
        var badGuards = Assert.Throws<ConfigException>(() => Parse(Semantic("lexical", lexical + ", guards: maybe")));
        var unguarded = Parse(Semantic("lexical", lexical + ", guards: false"));

        Assert.Equal(lexical, ok.SemanticCache.PairModel);
        Assert.Equal("cache.semantic.pair_model: the model was trained with the embedder 'lexical', not 'minilm'", Assert.Single(otherEmbedder.Errors));
        Assert.StartsWith("cache.semantic.pair_model: cannot be read as a pair model", Assert.Single(notThere.Errors), StringComparison.Ordinal);
        Assert.Equal("cache.semantic.guards: 'maybe' is not true or false", Assert.Single(badGuards.Errors));
        Assert.True(ok.SemanticCache.Guards);
        Assert.False(unguarded.SemanticCache.Guards);
    }

    [Fact]
    public void Prompt_facts_are_off_by_default_and_their_embedder_is_checked()
    {
        const string Models = "models:\n  - { alias: a, provider: openai, model: gpt-4o-mini, api_key: k }\n";
        Assert.False(Parse(Models).Storage.RecordPromptFacts);
        var on = Parse("storage:\n  record_prompt_facts: true\n  prompt_facts_embedder: \"alias:a\"\n" + Models);
        Assert.Equal((true, "alias:a"), (on.Storage.RecordPromptFacts, on.Storage.PromptFactsEmbedder));

        var bogus = Assert.Throws<ConfigException>(() => Parse("storage:\n  record_prompt_facts: true\n  prompt_facts_embedder: bert\n" + Models));
        var withoutFacts = Assert.Throws<ConfigException>(() => Parse("storage:\n  prompt_facts_embedder: lexical\n" + Models));
        var unknownAlias = Assert.Throws<ConfigException>(() => Parse("storage:\n  record_prompt_facts: true\n  prompt_facts_embedder: \"alias:emb\"\n" + Models));
        Assert.StartsWith("storage.prompt_facts_embedder: 'bert' is not one of: lexical, minilm, alias:NAME", Assert.Single(bogus.Errors), StringComparison.Ordinal);
        Assert.Equal("storage.prompt_facts_embedder: needs record_prompt_facts: true (the vector is one of the prompt facts)", Assert.Single(withoutFacts.Errors));
        Assert.Equal("storage.prompt_facts_embedder: 'emb' is not a configured model alias", Assert.Single(unknownAlias.Errors));
    }

    [Fact]
    public void The_spend_digest_is_off_by_default_and_its_settings_are_checked()
    {
        const string Models = "models:\n  - { alias: a, provider: mock, model: mock-gpt }\n";
        var none = Parse(Models);
        Assert.Null(none.Digest.Every);
        Assert.True(none.Digest.Forecast);

        var weekly = Parse(Models + "alerts:\n  forecast: false\n  digest: { weekday: friday, hour: 17, group_by: tag:team, top: 3 }\n");
        Assert.Equal(("weekly", DayOfWeek.Friday, 17, "tag:team", 3, false), (weekly.Digest.Every, weekly.Digest.Weekday, weekly.Digest.Hour, weekly.Digest.GroupBy, weekly.Digest.Top, weekly.Digest.Forecast));

        var bad = Assert.Throws<ConfigException>(() => Parse(Models + "alerts:\n  digest: { every: hourly, weekday: 7, hour: 24, group_by: colour, top: 0, when: now }\n"));
        Assert.Contains(bad.Errors, e => e.StartsWith("alerts.digest.every: 'hourly' is not daily or weekly", StringComparison.Ordinal));
        Assert.Contains(bad.Errors, e => e.StartsWith("alerts.digest.weekday: '7' is not a day of the week", StringComparison.Ordinal));
        Assert.Contains(bad.Errors, e => e.StartsWith("alerts.digest.hour: 24 is not an hour", StringComparison.Ordinal));
        Assert.Contains(bad.Errors, e => e.StartsWith("alerts.digest.group_by: 'colour' is not one of", StringComparison.Ordinal));
        Assert.Contains(bad.Errors, e => e.StartsWith("alerts.digest.top", StringComparison.Ordinal));
        Assert.Contains(bad.Errors, e => e.Contains("when", StringComparison.Ordinal));
    }

    [Fact]
    public void Broken_yaml_and_an_empty_model_list_are_errors_with_a_location()
    {
        var broken = Assert.Throws<ConfigException>(() => Parse("models:\n  - alias: a\n   provider: x: y\n"));
        Assert.Contains(broken.Errors, e => e.StartsWith("(line", StringComparison.Ordinal));

        var empty = Assert.Throws<ConfigException>(() => Parse("listen: 127.0.0.1:4000\n"));
        Assert.Contains("models: at least one model alias is required", empty.Errors);
    }

    [Fact]
    public void A_litellm_proxy_config_is_accepted_as_is_with_unknown_keys_as_warnings()
    {
        var config = Parse("""
            model_list:
              - model_name: gpt-4o-mini
                litellm_params:
                  model: openai/gpt-4o-mini
                  api_key: os.environ/OPENAI_API_KEY
                  rpm: 60
                  max_parallel_requests: 4
                model_info:
                  id: abc
              - model_name: cheap
                litellm_params:
                  model: deepseek/deepseek-chat
                  api_key: os.environ/DEEPSEEK_API_KEY
                  input_cost_per_token: 0.00000028
                  output_cost_per_token: 0.00000042
              - model_name: local
                litellm_params:
                  model: ollama_chat/llama3.1
                  api_base: http://localhost:11434
              - model_name: claude
                litellm_params:
                  model: anthropic/claude-sonnet-4-5
              - model_name: titan
                litellm_params:
                  model: bedrock/amazon.titan-text-express-v1
            litellm_settings:
              drop_params: true
              success_callback: ["langfuse"]
            general_settings:
              master_key: os.environ/LITELLM_MASTER_KEY
              database_url: postgres://x
            """, ("OPENAI_API_KEY", "sk-openai"), ("DEEPSEEK_API_KEY", "sk-ds"), ("LITELLM_MASTER_KEY", "sk-1234"));

        Assert.Equal("sk-1234", config.MasterKey);
        Assert.Equal(4, config.Deployments.Count);
        var openai = config.Deployments[0];
        Assert.Equal(("gpt-4o-mini", "openai", "gpt-4o-mini", "sk-openai"), (openai.Alias, openai.Provider, openai.Model, openai.ApiKey));
        Assert.Equal(new Uri("https://api.openai.com/v1"), openai.BaseUrl);
        Assert.Equal(0.28m, config.Deployments[1].Price!.InputPerMillion);
        Assert.Equal(0.42m, config.Deployments[1].Price!.OutputPerMillion);
        Assert.Equal(new Uri("http://localhost:11434/v1"), config.Deployments[2].BaseUrl);
        Assert.Contains(config.Warnings, w => w.StartsWith("model_list[0].litellm_params.max_parallel_requests", StringComparison.Ordinal));
        Assert.Equal(60, openai.RateLimit.RequestsPerMinute);
        Assert.Contains(config.Warnings, w => w.StartsWith("model_list[0].model_info", StringComparison.Ordinal));
        Assert.Contains(config.Warnings, w => w.StartsWith("litellm_settings.drop_params", StringComparison.Ordinal));
        Assert.Contains(config.Warnings, w => w.StartsWith("litellm_settings.success_callback", StringComparison.Ordinal)
            && w.Contains("callback 'langfuse' is not run", StringComparison.Ordinal) && w.Contains("https://cloud.langfuse.com/api/public/otel", StringComparison.Ordinal));
        Assert.Contains(config.Warnings, w => w.StartsWith("general_settings.database_url", StringComparison.Ordinal));
        Assert.Equal(("anthropic", new Uri("https://api.anthropic.com")), (config.Deployments[3].Provider, config.Deployments[3].BaseUrl));
        Assert.Contains(config.Warnings, w => w.Contains("provider 'bedrock' is not supported yet; alias 'titan' was skipped", StringComparison.Ordinal));
    }

    [Fact]
    public void The_embedded_defaults_serve_the_mock_provider_priced_from_the_catalogue()
    {
        var config = ConfigLoader.Defaults();

        Assert.Equal(new Uri("http://127.0.0.1:4000"), config.Listen);
        Assert.Null(config.MasterKey);
        Assert.Contains(config.Deployments, d => d is { Alias: "mock-gpt", Provider: "mock", PriceAs: "gpt-4o-mini" });
    }

    [Fact]
    public void A_missing_file_is_an_error_naming_it()
    {
        var ex = Assert.Throws<ConfigException>(() => ConfigLoader.Load("/nonexistent/tollgate.yaml", _ => null));

        Assert.Contains("/nonexistent/tollgate.yaml", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void The_listen_address_comes_from_the_config_then_aspnetcore_urls_then_aspnetcore_http_ports()
    {
        var environment = new Dictionary<string, string> { ["ASPNETCORE_URLS"] = "http://+:8080;http://127.0.0.1:9090", ["ASPNETCORE_HTTP_PORTS"] = "7070" };
        const string Models = "models:\n  - { alias: m, provider: mock, model: m }\n";

        var configured = ConfigLoader.Parse("listen: 127.0.0.1:5000\n" + Models, "t", environment.GetValueOrDefault);
        var fromUrls = ConfigLoader.Parse(Models, "t", environment.GetValueOrDefault);
        var fromPorts = ConfigLoader.Parse(Models, "t", name => name == "ASPNETCORE_HTTP_PORTS" ? "7070" : null);
        var defaults = ConfigLoader.Defaults(environment.GetValueOrDefault);
        var plain = ConfigLoader.Defaults();

        Assert.Equal(("http://127.0.0.1:5000/", null), (configured.Listen.AbsoluteUri, configured.BindUrls));
        Assert.Equal(8080, fromUrls.Listen.Port);
        Assert.Equal(["http://+:8080", "http://127.0.0.1:9090"], fromUrls.BindUrls);
        Assert.Equal(["http://*:7070"], fromPorts.BindUrls);
        Assert.Equal(8080, defaults.Listen.Port);
        Assert.Equal("http://127.0.0.1:4000/", plain.Listen.AbsoluteUri);
        var bad = Assert.Throws<ConfigException>(() => ConfigLoader.Parse(Models, "t", name => name == "ASPNETCORE_URLS" ? "https://+:443" : null));
        Assert.Contains(bad.Errors, e => e.StartsWith("ASPNETCORE_URLS", StringComparison.Ordinal));
    }

    [Fact]
    public async Task A_gateway_started_with_aspnetcore_urls_listens_there()
    {
        using var probe = new System.Net.Sockets.TcpListener(System.Net.IPAddress.Loopback, 0);
        probe.Start();
        var port = ((System.Net.IPEndPoint)probe.LocalEndpoint).Port;
        probe.Stop();
        var directory = Directory.CreateTempSubdirectory("tollgate-urls-").FullName;
        var config = ConfigLoader.Defaults(name => name == "ASPNETCORE_URLS" ? $"http://127.0.0.1:{port}" : null) with
        {
            Storage = new StorageConfig(directory, Path.Combine(directory, "ledger.db")),
        };
        await using var app = Tollgate.Gateway.GatewayHost.Build(config, "sk-test-master-0123456789abcdef");
        await app.StartAsync();

        using var client = new HttpClient();
        var health = await client.GetAsync($"http://127.0.0.1:{port}/healthz");

        Assert.Equal(System.Net.HttpStatusCode.OK, health.StatusCode);
        await app.StopAsync();
    }
}
