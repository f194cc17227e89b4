"""TraceBot in Slack: the bolt app and the alert sender."""
