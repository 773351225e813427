namespace Tollgate.Metering;

/// <summary>How one deployment is priced: per token from the catalogue or an override, per hour (a rented GPU), or unknown.</summary>
public abstract record DeploymentPrice
{
    private DeploymentPrice()
    {
    }

    /// <summary>Priced per token.</summary>
    public sealed record PerToken(TokenPrice Price, string Source) : DeploymentPrice;

    /// <summary>A self-hosted deployment priced by the hour; the hour is shared out by <see cref="HourlyCostAllocator"/>.</summary>
    public sealed record PerHour(decimal UsdPerHour) : DeploymentPrice;

    /// <summary>No price is known: records keep their usage and a null cost, never a guessed price.</summary>
    public sealed record Unknown(string Reason) : DeploymentPrice;
}
