"""The answer cache's parts, one concern each; `chatbot.cache` is the service that joins them.

- `wording`: a question as a list of tokens (the one reading both the key and the guard use);
- `keys`: which entry a question and a reader scope name, and what produced an answer;
- `guard`: whether two close questions ask the same thing (key terms and qualifiers);
- `store`: the entries and the embedding buckets in Redis.

Nothing here touches the database; `chatbot.frequent` keeps the staff-facing record.
"""
