namespace Tollgate.Routing;

/// <summary>Who a weighted router keeps on one target, so one conversation does not bounce between models.</summary>
public enum StickyBy
{
    /// <summary>The user (<c>X-User-ID</c> / the body's <c>user</c>), else the session.</summary>
    User,

    /// <summary>The session, else the user.</summary>
    Session,

    /// <summary>Each request drawn afresh.</summary>
    None,
}
