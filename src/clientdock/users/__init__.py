"""People who sign in to the web page: users of one tenant, and their server-side sessions."""
