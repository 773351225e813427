using System.Text.RegularExpressions;
using Tollgate.Routing;

namespace Tollgate.Configuration;

/// <summary>
/// <c>routers:</c> — a map of router name → <c>{ targets, reference, sticky, rules, weights }</c>; each rule is
/// <c>{ name, target, feature, tag: "k=v", key, min_chars, max_chars, min_tokens, max_tokens, tools, images,
/// response_format, regex }</c>. Read, then checked against the configured aliases.
/// </summary>
internal static class RouterConfigReader
{
    private static readonly string[] RouterKeys = ["targets", "reference", "sticky", "rules", "difficulty", "cheapest", "weights"];
    private static readonly string[] DifficultyKeys = ["embedder", "strong", "cheap", "simple", "complex", "margin", "model", "threshold"];
    private static readonly string[] RuleKeys = ["name", "target", "feature", "tag", "key", "min_chars", "max_chars", "min_tokens", "max_tokens", "tools", "images", "response_format", "regex"];

    public static IReadOnlyList<RouterSettings> Read(YamlSection? section)
    {
        var routers = new List<RouterSettings>();
        foreach (var name in section?.Keys ?? [])
        {
            var router = section!.Section(name);
            if (router is null)
            {
                section.Diagnostics.Error(section.Child(name), "must be a mapping with targets (and rules or weights)");
                continue;
            }

            router.RejectUnknown(RouterKeys);
            var targets = router.StringList("targets");
            if (targets.Count == 0)
            {
                router.Diagnostics.Error(router.Child("targets"), "name at least one alias to route to");
            }

            var sticky = router.String("sticky") ?? "user";
            if (sticky is not ("user" or "session" or "none"))
            {
                router.Diagnostics.Error(router.Child("sticky"), $"'{sticky}' is not one of: user, session, none");
            }

            var weights = new List<TargetWeight>();
            if (router.Section("weights") is { } weightSection)
            {
                foreach (var target in weightSection.Keys)
                {
                    weights.Add(new TargetWeight(target, weightSection.Decimal(target) ?? 0));
                }
            }

            routers.Add(new RouterSettings(
                name,
                targets,
                router.String("reference"),
                sticky switch { "session" => StickyBy.Session, "none" => StickyBy.None, _ => StickyBy.User },
                [.. router.List("rules").Select(ReadRule).OfType<RouteRule>()],
                weights)
            {
                Difficulty = ReadDifficulty(router.Section("difficulty")),
                Cheapest = ReadFlag(router, "cheapest") ?? false,
            });
        }

        return routers;
    }

    /// <summary>Targets, reference, rule targets and weight keys must be configured aliases the router lists; a router's name must not be an alias.</summary>
    public static IReadOnlyList<RouterSettings> Validate(IReadOnlyList<RouterSettings> routers, IReadOnlySet<string> aliases, ConfigDiagnostics diagnostics)
    {
        foreach (var router in routers)
        {
            var path = "routers." + router.Name;
            if (aliases.Contains(router.Name))
            {
                diagnostics.Error(path, $"'{router.Name}' is already a model alias: a router needs a name of its own");
            }

            foreach (var target in router.Targets.Where(t => !aliases.Contains(t)))
            {
                diagnostics.Error(path + ".targets", $"'{target}' is not a configured model alias");
            }

            if (router.Reference is { } reference && !router.Targets.Contains(reference))
            {
                diagnostics.Error(path + ".reference", $"'{reference}' is not one of the router's targets");
            }

            foreach (var rule in router.Rules.Where(r => !router.Targets.Contains(r.Target)))
            {
                diagnostics.Error(path + ".rules", $"rule '{rule.Name}' sends to '{rule.Target}', which is not one of the router's targets");
            }

            foreach (var weight in router.Weights.Where(w => !router.Targets.Contains(w.Target)))
            {
                diagnostics.Error(path + ".weights", $"'{weight.Target}' is not one of the router's targets");
            }

            if (router.Weights.Count > 0 && router.Weights.Sum(w => w.Weight) <= 0)
            {
                diagnostics.Error(path + ".weights", "at least one weight must be above 0");
            }

            if (router.Difficulty is { } difficulty)
            {
                foreach (var target in new[] { difficulty.Strong, difficulty.Cheap }.OfType<string>().Where(t => !router.Targets.Contains(t)))
                {
                    diagnostics.Error(path + ".difficulty", $"'{target}' is not one of the router's targets");
                }

                if (Optimization.SemanticCaching.SemanticCacheSettings.EmbedderAlias(difficulty.Embedder) is { } alias && !aliases.Contains(alias))
                {
                    diagnostics.Error(path + ".difficulty.embedder", $"'{alias}' is not a configured model alias");
                }
            }

            foreach (var name in router.Rules.GroupBy(r => r.Name, StringComparer.Ordinal).Where(g => g.Count() > 1).Select(g => g.Key))
            {
                diagnostics.Error(path + ".rules", $"two rules are named '{name}'");
            }
        }

        return routers;
    }

    /// <summary><c>difficulty: { embedder, strong, cheap, simple: [...], complex: [...], margin }</c> or <c>{ …, model: FILE, threshold }</c>.</summary>
    private static Routing.Difficulty.DifficultySettings? ReadDifficulty(YamlSection? section)
    {
        if (section is null)
        {
            return null;
        }

        section.RejectUnknown(DifficultyKeys);
        var embedder = section.String("embedder") ?? "lexical";
        if (!Optimization.SemanticCaching.SemanticCacheSettings.IsEmbedder(embedder))
        {
            section.Diagnostics.Error(section.Child("embedder"), Optimization.SemanticCaching.SemanticCacheSettings.NotAnEmbedder(embedder));
        }

        var strong = section.String("strong", required: true);
        var simple = section.StringList("simple");
        var complex = section.StringList("complex");
        var model = section.String("model");
        if ((model is null) == (simple.Count + complex.Count == 0))
        {
            section.Diagnostics.Error(section.Path, "give either examples (simple and complex) or a trained model file, not both or neither");
        }
        else if (model is null && (simple.Count == 0 || complex.Count == 0))
        {
            section.Diagnostics.Error(section.Path, "give examples of both kinds: simple and complex");
        }

        section.ModelFile("model", embedder, json => Routing.Difficulty.DifficultyModel.FromJson(json).Embedder, "a difficulty model");

        var threshold = section.Decimal("threshold");
        if (threshold > 1)
        {
            section.Diagnostics.Error(section.Child("threshold"), $"{threshold} is not between 0 and 1");
        }

        return strong is null ? null : new Routing.Difficulty.DifficultySettings(embedder, strong, section.String("cheap"))
        {
            Simple = simple,
            Complex = complex,
            Margin = (double)(section.Decimal("margin") ?? 0.15m),
            ModelPath = model,
            Threshold = (double)(threshold ?? 0.5m),
        };
    }

    private static bool? ReadFlag(YamlSection section, string key)
    {
        var text = section.String(key);
        if (text is null)
        {
            return null;
        }

        if (bool.TryParse(text, out var value))
        {
            return value;
        }

        section.Diagnostics.Error(section.Child(key), $"'{text}' is not true or false");
        return null;
    }

    private static RouteRule? ReadRule(YamlSection rule)
    {
        rule.RejectUnknown(RuleKeys);
        var name = rule.String("name", required: true);
        var target = rule.String("target", required: true);
        (string, string)? tag = null;
        if (rule.String("tag") is { } tagText)
        {
            var equals = tagText.IndexOf('=', StringComparison.Ordinal);
            if (equals <= 0)
            {
                rule.Diagnostics.Error(rule.Child("tag"), $"'{tagText}' is not name=value");
            }
            else
            {
                tag = (tagText[..equals], tagText[(equals + 1)..]);
            }
        }

        Regex? pattern = null;
        if (rule.String("regex") is { } regex)
        {
            try
            {
                // Compiled once at load: an interpreted pattern over a long prompt costs tens of microseconds a request.
                pattern = new Regex(regex, RegexOptions.CultureInvariant | RegexOptions.Compiled, RouteRule.RegexTimeout);
            }
            catch (ArgumentException ex)
            {
                rule.Diagnostics.Error(rule.Child("regex"), $"is not a regular expression: {ex.Message}");
            }
        }

        bool? Flag(string key) => ReadFlag(rule, key);

        long? Count(string key) => rule.Int(key) is { } value ? value : null;
        if (name is null || target is null)
        {
            return null;
        }

        var read = new RouteRule(name, target)
        {
            Feature = rule.String("feature"),
            Tag = tag,
            Key = rule.String("key"),
            MinChars = Count("min_chars"),
            MaxChars = Count("max_chars"),
            MinTokens = Count("min_tokens"),
            MaxTokens = Count("max_tokens"),
            Tools = Flag("tools"),
            Images = Flag("images"),
            ResponseFormat = Flag("response_format"),
            Pattern = pattern,
        };
        if (read is { Feature: null, Tag: null, Key: null, MinChars: null, MaxChars: null, MinTokens: null, MaxTokens: null, Tools: null, Images: null, ResponseFormat: null, Pattern: null }
            && !rule.Has("regex") && !rule.Has("tag"))
        {
            rule.Diagnostics.Error(rule.Path, $"rule '{name}' has no condition (it would take every request: use weights or the first target instead)");
        }

        return read;
    }
}
