# Your PostHog; the key is kept in your Claude Code user settings (add --env POSTHOG_HOST=https://eu.posthog.com for EU Cloud):
claude mcp add --transport stdio --scope user --env POSTHOG_PERSONAL_API_KEY=phx_your_personal_api_key posthog-notebooks -- posthog-notebooks-mcp
# The sandbox, no account needed:
claude mcp add --transport stdio posthog-notebooks-sandbox -- posthog-notebooks-mcp --sandbox
