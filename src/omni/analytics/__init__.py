"""Analytics: funnels, retention, purchases, reachability, paths; the data behind the dashboard's charts."""
