using System.Globalization;
using System.Text;

namespace Tollgate.Optimization.SemanticCaching;

/// <summary>
/// A question as the semantic cache compares it: Unicode NFC, lowercase, words split on anything that is not a letter,
/// a digit or a combining mark, numbers written one way (1,000 / 1.000 / 1000 → 1000; 2,5 / 2.5 → 2.5; 300k / 300 nghìn / 300.000đ → 300000; 3 giờ chiều / 15h → 15), and the
/// English and Vietnamese words that carry no meaning of their own dropped. What differs between two questions that a
/// similarity cannot be trusted with — the numbers, a negation, a capitalised name — is kept apart for the guards.
/// </summary>
public sealed class QueryText
{
    private static readonly HashSet<string> Stopwords = new(StringComparer.Ordinal)
    {
        // English function words. Kept: question words ("how" and "why" ask different things), pronouns ("your
        // happiness" is not "happiness") and past tenses ("how did you" is not "how do I").
        "a", "an", "the", "is", "are", "be", "been", "being", "am", "do", "does", "to", "of", "in", "on",
        "for", "at", "by", "with", "and", "or", "it", "its", "this", "that",
        "these", "those", "there", "can", "could", "would", "should", "will", "shall", "may", "might", "please", "some",
        "any", "just", "so", "really", "actually", "s",
        // Vietnamese function words, particles and forms of address common in customer questions.
        "là", "và", "của", "có", "cho", "với", "các", "những", "một", "thì", "mà", "được", "này", "đó", "ấy", "ở", "tại",
        "về", "để", "từ", "như", "trong", "ạ", "à", "ơi", "nhé", "nha", "nhỉ", "vậy", "thế", "ra",
        "shop", "ad", "admin", "hỏi", "xin", "vui", "lòng", "làm", "ơn", "giúp", "biết",
        "rồi", "luôn", "lắm", "hả",
        // The same typed without diacritics, where the bare form is not an English word as well.
        "la", "va", "co", "cua", "voi", "cac", "nhung", "mot", "thi", "duoc", "nay", "oi", "nhe", "vay", "roi", "luon",
    };

    private static readonly HashSet<string> Negations = new(StringComparer.Ordinal)
    {
        "not", "no", "never", "cannot", "cant", "dont", "doesnt", "didnt", "isnt", "arent", "wasnt", "werent", "wont",
        "without", "none", "nor", "nothing", "nobody", "neither",
        "không", "chưa", "chẳng", "chả", "đừng", "chớ", "hông", "khỏi", "cấm", "ko", "khong",
    };

    /// <summary>
    /// Words that scale the number before them: shop prices are written 300k, 300 nghìn, 300.000đ and 1tr, 1 triệu,
    /// 1.000.000đ — one amount each, which the numbers guard must not tell apart.
    /// </summary>
    private static readonly Dictionary<string, decimal> Multipliers = new(StringComparer.Ordinal)
    {
        ["k"] = 1_000m, ["nghìn"] = 1_000m, ["ngàn"] = 1_000m, ["nghin"] = 1_000m, ["ngan"] = 1_000m, ["thousand"] = 1_000m,
        ["tr"] = 1_000_000m, ["triệu"] = 1_000_000m, ["trieu"] = 1_000_000m, ["million"] = 1_000_000m,
        ["tỷ"] = 1_000_000_000m, ["tỉ"] = 1_000_000_000m, ["billion"] = 1_000_000_000m,
    };

    /// <summary>The đồng written after an amount ("300.000đ", "50 nghìn đồng", "VND"): dropped, the amount alone says it.</summary>
    private static readonly HashSet<string> Currency = new(StringComparer.Ordinal) { "đ", "đồng", "vnd", "vnđ" };

    private HashSet<string>? _words;

    private QueryText(string normalised, IReadOnlySet<string> numbers, IReadOnlyList<string> negations, IReadOnlySet<string> names)
    {
        Normalised = normalised;
        Numbers = numbers;
        NegationWords = negations;
        Names = names;
    }

    /// <summary>The words compared by similarity, space-separated.</summary>
    public string Normalised { get; }

    /// <summary>Every number in the question, written one way.</summary>
    public IReadOnlySet<string> Numbers { get; }

    /// <summary>
    /// The negation words in the question, each as often as it occurs (sorted): Vietnamese asks yes/no questions with
    /// "… không?", so "Không giao … được không?" differs from "Giao … được không?" by a count, not a word.
    /// </summary>
    public IReadOnlyList<string> NegationWords { get; }

    /// <summary>Words written with a capital inside a sentence (names of people, places, products), lowercased.</summary>
    public IReadOnlySet<string> Names { get; }

    public static QueryText Of(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        var composed = UnicodeForms.Compose(text);
        var words = new List<string>();
        var numbers = new HashSet<string>(StringComparer.Ordinal);
        var negations = new List<string>();
        var names = new HashSet<string>(StringComparer.Ordinal);
        var sentenceStart = true;
        foreach (var (token, isNumber) in Tokens(composed))
        {
            if (isNumber)
            {
                numbers.Add(token);
                words.Add(token);
                sentenceStart = false;
                continue;
            }

            if (token == ".")
            {
                sentenceStart = true;
                continue;
            }

            var lower = token.ToLowerInvariant();
            if (!sentenceStart && char.IsUpper(token[0]) && !Stopwords.Contains(lower) && lower != "i")
            {
                names.Add(Bare(lower));
            }

            sentenceStart = false;
            var bare = Bare(lower);
            if (Negations.Contains(bare))
            {
                negations.Add(WithoutDiacritics(bare) ?? bare); // "không" typed "khong" is the same negation
            }

            if (!Stopwords.Contains(bare))
            {
                words.Add(bare);
            }
        }

        negations.Sort(StringComparer.Ordinal);
        return new QueryText(string.Join(' ', words), numbers, negations, names);
    }

    /// <summary>
    /// <see cref="Normalised"/> alone, without gathering what the guards compare: for hashing a question (the advisor's
    /// near-duplicates), on every request. Always equal to <c>Of(text).Normalised</c>.
    /// </summary>
    public static string NormalisedOf(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        var words = new StringBuilder(text.Length);
        foreach (var (token, isNumber) in Tokens(UnicodeForms.Compose(text)))
        {
            var word = isNumber ? token : token == "." ? null : Bare(token.ToLowerInvariant());
            if (word is null || (!isNumber && Stopwords.Contains(word)))
            {
                continue;
            }

            words.Append(words.Length > 0 ? " " : string.Empty).Append(word);
        }

        return words.ToString();
    }

    /// <summary>The word without its diacritics ("hàng" → "hang", "đổi" → "doi"); null when it has none.</summary>
    public static string? WithoutDiacritics(string word)
    {
        if (Ascii.IsValid(word))
        {
            return null;
        }

        var bare = new StringBuilder(word.Length);
        foreach (var c in UnicodeForms.Decompose(word))
        {
            if (CharUnicodeInfo.GetUnicodeCategory(c) != UnicodeCategory.NonSpacingMark)
            {
                bare.Append(c switch { 'đ' => 'd', 'Đ' => 'D', _ => c });
            }
        }

        var text = UnicodeForms.Compose(bare.ToString());
        return text == word ? null : text;
    }

    /// <summary>A lowercased word without its apostrophes ("don't" → "dont").</summary>
    private static string Bare(string lower) =>
        lower.Replace("'", string.Empty, StringComparison.Ordinal).Replace("’", string.Empty, StringComparison.Ordinal);

    /// <summary>
    /// Why a cached question must not answer this one although they are similar: a number, a negation or a name that
    /// one has and the other has not. Null when none.
    /// </summary>
    public string? Conflict(QueryText cached)
    {
        ArgumentNullException.ThrowIfNull(cached);
        if (!Numbers.SetEquals(cached.Numbers))
        {
            return "numbers";
        }

        if (!NegationWords.SequenceEqual(cached.NegationWords, StringComparer.Ordinal))
        {
            return "negation";
        }

        // A name written with a capital in one question and in lower case in the other ("Python" / "python") is the
        // same name: only a name the other question does not mention at all differs.
        return Names.All(cached.HasWord) && cached.Names.All(HasWord) ? null : "names";
    }

    /// <summary>The words of <see cref="Normalised"/> as a set (made on first use; made twice at worst when two threads race).</summary>
    public IReadOnlySet<string> Words => _words ??= new HashSet<string>(Normalised.Split(' ', StringSplitOptions.RemoveEmptyEntries), StringComparer.Ordinal);

    /// <summary>Whether <paramref name="word"/> (lowercased, without apostrophes) is among the question's words.</summary>
    private bool HasWord(string word) => Words.Contains(word);

    /// <summary>Words (letters, digits, combining marks, inner apostrophes), numbers written one way, and "." at sentence ends.</summary>
    private static IEnumerable<(string Token, bool IsNumber)> Tokens(string text)
    {
        var i = 0;
        while (i < text.Length)
        {
            var c = text[i];
            if (char.IsDigit(c))
            {
                var start = i;
                while (i < text.Length && (char.IsDigit(text[i]) || ((text[i] is '.' or ',') && i + 1 < text.Length && char.IsDigit(text[i + 1]))))
                {
                    i++;
                }

                var number = NumberText(text[start..i]);
                var (unit, end) = WordAfter(text, i);
                if (unit is not null && Multipliers.TryGetValue(unit, out var factor))
                {
                    (number, i) = (Scaled(number, factor), end);
                    (unit, end) = WordAfter(text, i);
                }

                if (unit is not null && Currency.Contains(unit))
                {
                    i = end;
                }
                else if (unit is "giờ" or "h")
                {
                    number = HourOfDay(number, WordAfter(text, end).Word);
                }

                yield return (number, true);
                continue;
            }

            if (char.IsLetter(c))
            {
                var start = i;
                while (i < text.Length && (char.IsLetterOrDigit(text[i]) || CharUnicodeInfo.GetUnicodeCategory(text[i]) is UnicodeCategory.NonSpacingMark or UnicodeCategory.SpacingCombiningMark
                    || ((text[i] is '\'' or '’') && i + 1 < text.Length && char.IsLetter(text[i + 1]))))
                {
                    i++;
                }

                yield return (text[start..i], false);
                continue;
            }

            if (c is '.' or '?' or '!' or '\n')
            {
                yield return (".", false);
            }

            i++;
        }
    }

    /// <summary>
    /// The word right after a number (touching it, or after one space), lowercased, and where it ends; null when none.
    /// </summary>
    private static (string? Word, int End) WordAfter(string text, int i)
    {
        var start = i < text.Length && text[i] == ' ' ? i + 1 : i;
        var end = start;
        while (end < text.Length && (char.IsLetter(text[end]) || CharUnicodeInfo.GetUnicodeCategory(text[end]) is UnicodeCategory.NonSpacingMark or UnicodeCategory.SpacingCombiningMark))
        {
            end++;
        }

        return end == start || end - start > 8 || (end < text.Length && char.IsDigit(text[end])) ? (null, i) : (text[start..end].ToLowerInvariant(), end);
    }

    /// <summary>
    /// An hour of the afternoon or evening on the 24-hour clock: "3 giờ chiều" and "3h chiều" are 15, "9 giờ tối" is 21
    /// — as "15h" and "21 giờ" say it. Any other hour is left as written.
    /// </summary>
    private static string HourOfDay(string hour, string? period) =>
        (period, int.TryParse(hour, NumberStyles.None, CultureInfo.InvariantCulture, out var h) ? h : 0) switch
        {
            ("chiều", >= 1 and <= 7) or ("tối", >= 5 and <= 11) => (h + 12).ToString(CultureInfo.InvariantCulture),
            _ => hour,
        };

    /// <summary>
    /// <paramref name="number"/> times <paramref name="factor"/>, written as <see cref="NumberText"/> writes numbers;
    /// unchanged when it is too long to scale (a hostile 40-digit number stays itself).
    /// </summary>
    private static string Scaled(string number, decimal factor) =>
        number.Length <= 15 && decimal.TryParse(number, NumberStyles.AllowDecimalPoint, CultureInfo.InvariantCulture, out var value)
            ? (value * factor).ToString("0.############", CultureInfo.InvariantCulture)
            : number;

    /// <summary>
    /// 1,000 and 1.000 (a separator before exactly three digits, repeated) are one thousand; 2,5 and 2.5 are two and a half.
    /// </summary>
    private static string NumberText(string raw)
    {
        var parts = raw.Split('.', ',');
        if (parts.Length > 1 && parts.Skip(1).All(p => p.Length == 3))
        {
            return string.Concat(parts).TrimStart('0') is { Length: > 0 } whole ? whole : "0";
        }

        if (parts.Length == 2)
        {
            var whole = parts[0].TrimStart('0');
            var fraction = parts[1].TrimEnd('0');
            return (whole.Length == 0 ? "0" : whole) + (fraction.Length == 0 ? string.Empty : "." + fraction);
        }

        return raw.TrimStart('0') is { Length: > 0 } plain ? plain : "0";
    }
}
