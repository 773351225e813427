using System.Globalization;
using System.Text;
using System.Text.RegularExpressions;

namespace Tollgate.Tests.Support;

/// <summary>
/// A strict reader of the Prometheus text exposition format 0.0.4, written from its grammar: it throws
/// <see cref="FormatException"/> (naming the line) on anything a Prometheus server would reject or misread — a bad
/// metric or label name, an unknown escape, a value that is not a float, a TYPE after its samples or given twice, a
/// family split in two, a duplicate series, a histogram without a +Inf bucket or with non-cumulative buckets.
/// </summary>
internal static partial class PrometheusExposition
{
    public sealed record Sample(string Name, IReadOnlyDictionary<string, string> Labels, double Value);

    public sealed record Family(string Name, string Type, string Help, List<Sample> Samples);

    [GeneratedRegex("^[a-zA-Z_:][a-zA-Z0-9_:]*$")]
    private static partial Regex MetricName();

    [GeneratedRegex("^[a-zA-Z_][a-zA-Z0-9_]*$")]
    private static partial Regex LabelName();

    public static IReadOnlyDictionary<string, Family> Parse(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        if (text.Length > 0 && !text.EndsWith('\n'))
        {
            throw new FormatException("the last line does not end with a line feed");
        }

        var families = new Dictionary<string, Family>(StringComparer.Ordinal);
        var series = new HashSet<string>(StringComparer.Ordinal);
        var closed = new HashSet<string>(StringComparer.Ordinal);
        string? current = null;
        var lines = text.Split('\n');
        for (var number = 1; number < lines.Length; number++)
        {
            var line = lines[number - 1];
            void Fail(string why) => throw new FormatException($"line {number}: {why}: {line}");
            if (line.Length == 0)
            {
                continue;
            }

            if (line.StartsWith('#'))
            {
                var parts = line.Split(' ', 4);
                if (parts.Length >= 3 && parts[0] == "#" && parts[1] is "HELP" or "TYPE")
                {
                    var name = parts[2];
                    if (!MetricName().IsMatch(name))
                    {
                        Fail("bad metric name");
                    }

                    var family = families.TryGetValue(name, out var known) ? known : families[name] = new Family(name, "untyped", string.Empty, []);
                    if (parts[1] == "TYPE")
                    {
                        if (parts.Length != 4 || parts[3] is not ("counter" or "gauge" or "histogram" or "summary" or "untyped"))
                        {
                            Fail("bad TYPE");
                        }

                        if (family.Samples.Count > 0 || family.Type != "untyped" || closed.Contains(name))
                        {
                            Fail("TYPE given twice or after samples");
                        }

                        families[name] = family with { Type = parts[3] };
                    }
                    else
                    {
                        families[name] = family with { Help = parts.Length == 4 ? parts[3] : string.Empty };
                    }

                    Switch(name);
                }

                continue;
            }

            var (metric, labels, value) = ReadSample(line, Fail);
            var owner = FamilyOf(metric, families);
            Switch(owner);
            if (!series.Add(metric + "{" + string.Join(",", labels.OrderBy(l => l.Key, StringComparer.Ordinal).Select(l => l.Key + "=" + l.Value)) + "}"))
            {
                Fail("duplicate series");
            }

            if (!families.TryGetValue(owner, out var target))
            {
                target = families[owner] = new Family(owner, "untyped", string.Empty, []);
            }

            if (target.Type == "counter" && (value < 0 || double.IsNaN(value)))
            {
                Fail("a counter must not be negative");
            }

            target.Samples.Add(new Sample(metric, labels, value));
        }

        foreach (var family in families.Values.Where(f => f.Type == "histogram"))
        {
            CheckHistogram(family);
        }

        return families;

        void Switch(string name)
        {
            if (current == name)
            {
                return;
            }

            if (closed.Contains(name))
            {
                throw new FormatException($"the samples of {name} are not together");
            }

            if (current is not null)
            {
                closed.Add(current);
            }

            current = name;
        }
    }

    private static string FamilyOf(string metric, Dictionary<string, Family> families)
    {
        foreach (var suffix in new[] { "_bucket", "_sum", "_count" })
        {
            if (metric.EndsWith(suffix, StringComparison.Ordinal) && families.TryGetValue(metric[..^suffix.Length], out var family) && family.Type is "histogram" or "summary")
            {
                return family.Name;
            }
        }

        return metric;
    }

    private static (string Metric, Dictionary<string, string> Labels, double Value) ReadSample(string line, Action<string> fail)
    {
        var position = 0;
        while (position < line.Length && line[position] is not ('{' or ' '))
        {
            position++;
        }

        var metric = line[..position];
        if (!MetricName().IsMatch(metric))
        {
            fail("bad metric name");
        }

        var labels = new Dictionary<string, string>(StringComparer.Ordinal);
        if (position < line.Length && line[position] == '{')
        {
            position++;
            while (position < line.Length && line[position] != '}')
            {
                var equals = line.IndexOf('=', position);
                if (equals < 0)
                {
                    fail("a label without '='");
                }

                var name = line[position..equals];
                if (!LabelName().IsMatch(name) || name.StartsWith("__", StringComparison.Ordinal))
                {
                    fail("bad label name");
                }

                position = equals + 1;
                if (position >= line.Length || line[position] != '"')
                {
                    fail("a label value must be quoted");
                }

                position++;
                var value = new StringBuilder();
                while (true)
                {
                    if (position >= line.Length)
                    {
                        fail("an unterminated label value");
                    }

                    var c = line[position++];
                    if (c == '"')
                    {
                        break;
                    }

                    if (c == '\\')
                    {
                        if (position >= line.Length)
                        {
                            fail("an escape at the end of the line");
                        }

                        value.Append(line[position++] switch
                        {
                            '\\' => '\\',
                            '"' => '"',
                            'n' => '\n',
                            _ => throw new FormatException($"an unknown escape in: {line}"),
                        });
                    }
                    else
                    {
                        value.Append(c);
                    }
                }

                if (!labels.TryAdd(name, value.ToString()))
                {
                    fail("a label given twice");
                }

                if (position < line.Length && line[position] == ',')
                {
                    position++;
                }
                else if (position >= line.Length || line[position] != '}')
                {
                    fail("labels must be separated by commas");
                }
            }

            if (position >= line.Length)
            {
                fail("an unterminated label set");
            }

            position++;
        }

        if (position >= line.Length || line[position] != ' ')
        {
            fail("no space before the value");
        }

        var fields = line[(position + 1)..].Split(' ');
        var number = double.NaN;
        if (fields.Length is < 1 or > 2 || !TryFloat(fields[0], out number) || (fields.Length == 2 && !long.TryParse(fields[1], NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out _)))
        {
            fail("the value is not a float (or the timestamp not an integer)");
        }

        return (metric, labels, number);
    }

    private static bool TryFloat(string text, out double value)
    {
        switch (text)
        {
            case "+Inf" or "Inf":
                value = double.PositiveInfinity;
                return true;
            case "-Inf":
                value = double.NegativeInfinity;
                return true;
            case "NaN":
                value = double.NaN;
                return true;
        }

        return double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out value) && text.All(c => char.IsAsciiDigit(c) || c is '.' or 'e' or 'E' or '+' or '-');
    }

    private static void CheckHistogram(Family family)
    {
        foreach (var group in family.Samples.GroupBy(s => string.Join(",", s.Labels.Where(l => l.Key != "le").OrderBy(l => l.Key, StringComparer.Ordinal).Select(l => l.Key + "=" + l.Value))))
        {
            var buckets = group.Where(s => s.Name == family.Name + "_bucket").ToList();
            var count = group.SingleOrDefault(s => s.Name == family.Name + "_count") ?? throw new FormatException($"{family.Name}{{{group.Key}}} has no _count");
            _ = group.SingleOrDefault(s => s.Name == family.Name + "_sum") ?? throw new FormatException($"{family.Name}{{{group.Key}}} has no _sum");
            if (buckets.Count == 0 || buckets.Any(b => !b.Labels.ContainsKey("le")))
            {
                throw new FormatException($"{family.Name}{{{group.Key}}} has buckets without 'le'");
            }

            var bounds = buckets.Select(b => TryFloat(b.Labels["le"], out var le) ? le : throw new FormatException($"bad le in {family.Name}")).ToList();
            if (!double.IsPositiveInfinity(bounds[^1]) || bounds.Zip(bounds.Skip(1)).Any(p => p.First >= p.Second))
            {
                throw new FormatException($"{family.Name}{{{group.Key}}}: bounds must rise and end at +Inf");
            }

            if (buckets.Zip(buckets.Skip(1)).Any(p => p.First.Value > p.Second.Value) || buckets[^1].Value != count.Value)
            {
                throw new FormatException($"{family.Name}{{{group.Key}}}: buckets must be cumulative and the +Inf bucket equal _count");
            }
        }
    }
}
