namespace Tollgate.Policy.Alerts;

/// <summary>Something a person should hear about, sent to the configured webhooks by <see cref="AlertSender"/>.</summary>
public abstract record Alert
{
    /// <summary>The body sent to a generic JSON webhook (its <c>type</c> field says which alert it is).</summary>
    public abstract object Payload();

    /// <summary>One line for a Slack-compatible webhook.</summary>
    public abstract string Text();
}
