namespace Tollgate.Optimization.SemanticCaching;

/// <summary>Turns a question into a unit-length vector; two questions alike in meaning have a high dot product.</summary>
public interface ITextEmbedder
{
    /// <summary>A short name for reports (<c>lexical</c>, <c>minilm</c>, an alias).</summary>
    string Name { get; }

    int Dimensions { get; }

    /// <summary>The vector of <paramref name="text"/>, L2-normalised.</summary>
    ValueTask<float[]> EmbedAsync(string text, CancellationToken cancellationToken);
}
