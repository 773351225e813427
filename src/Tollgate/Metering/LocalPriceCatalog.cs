namespace Tollgate.Metering;

/// <summary>
/// The catalogue a gateway prices with: the built-in one, overlaid by the prices a user imported into
/// <c>&lt;data_dir&gt;/prices.json</c>. An imported price replaces a built-in one of the same model and date, and
/// a later date takes over from its day on, as any catalogue version does.
/// </summary>
public static class LocalPriceCatalog
{
    public const string FileName = "prices.json";

    public static string PathIn(string dataDirectory) => Path.Combine(dataDirectory, FileName);

    public static PriceCatalog Load(string dataDirectory) => new(Merge(PriceCatalogReader.BuiltInPrices(), ReadImported(dataDirectory)));

    public static IReadOnlyList<TokenPrice> ReadImported(string dataDirectory)
    {
        var path = PathIn(dataDirectory);
        if (!File.Exists(path))
        {
            return [];
        }

        using var stream = File.OpenRead(path);
        return PriceCatalogReader.Read(stream);
    }

    /// <summary>Adds <paramref name="imported"/> to the user's catalogue file, replacing entries of the same model and date.</summary>
    public static int Save(string dataDirectory, IReadOnlyList<TokenPrice> imported)
    {
        ArgumentNullException.ThrowIfNull(imported);
        var merged = Merge(ReadImported(dataDirectory), imported);
        Directory.CreateDirectory(dataDirectory);
        var path = PathIn(dataDirectory);
        var temporary = path + ".tmp";
        using (var stream = File.Create(temporary))
        {
            PriceCatalogWriter.Write(stream, merged);
        }

        File.Move(temporary, path, overwrite: true);
        return merged.Count;
    }

    /// <summary>The union of two price lists; where both have a model on the same date, <paramref name="overlay"/> wins.</summary>
    public static IReadOnlyList<TokenPrice> Merge(IEnumerable<TokenPrice> baseline, IEnumerable<TokenPrice> overlay)
    {
        var byKey = new Dictionary<(string, DateOnly), TokenPrice>();
        foreach (var price in baseline.Concat(overlay))
        {
            byKey[(price.Model.ToLowerInvariant(), price.EffectiveFrom)] = price;
        }

        return [.. byKey.Values];
    }
}
