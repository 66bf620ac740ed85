// Chats and messages in D1 (migration 0003_chat.sql): the records, their canonical JSON, and the
// reads and writes the chat routes and the answer service need. Ownership is checked here, once:
// a chat another user owns is "not found" (404 chat.not_found), indistinguishable from a missing
// one, unless it is public and only read access was asked for.
#pragma once

#include "core/context.hpp"
#include "core/error.hpp"
#include "core/task.hpp"

#include <optional>
#include <string>
#include <vector>

namespace ec {

struct ChatRecord {
  std::string id;
  std::string user_id;  // empty for anonymous widget chats
  std::string title;
  std::string visibility = "private";  // private | public
  std::string origin = "api";          // api | seed000 | widget
  std::string widget_id;
  std::string memory_stream_id;
  int64_t message_count = 0;
  int64_t next_seq = 1;
  int64_t created_ms = 0;
  int64_t updated_ms = 0;
};

struct MessageRecord {
  std::string id;
  std::string chat_id;
  int64_t seq = 0;
  std::string role;  // user | assistant
  std::string content;
  std::string status = "complete";  // complete | partial | error
  std::string provider;
  std::string model;
  json sources = json::array();    // as sent in the `sources` event
  json citations = json::array();  // [n, …]
  std::optional<int64_t> tokens_in;
  std::optional<int64_t> tokens_out;
  std::optional<int64_t> latency_ms;
  std::string error;  // error code when partial/error
  std::string reply_to;
  std::string stream_id;
  int64_t created_ms = 0;
  int64_t updated_ms = 0;
  // The caller's vote (1, -1) when read for a user; 0 = none. Totals across users.
  int vote = 0;
  int64_t votes_up = 0;
  int64_t votes_down = 0;
};

// Canonical JSON (camelCase: id, title, visibility, messageCount, createdAt/updatedAt as ISO-8601).
json chat_json(const ChatRecord& c);
json message_json(const MessageRecord& m);

enum class ChatAccess { kRead, kWrite };

// New chat owned by user_id (title "New chat" when empty; trimmed, <= 200 chars).
Task<Result<ChatRecord>> create_chat(Ctx& ctx, std::string user_id, std::string title,
                                     std::string visibility, std::string origin);
// kRead: the owner's chat, or anyone's public chat. kWrite: the owner's only.
Task<Result<ChatRecord>> find_chat(Ctx& ctx, std::string user_id, std::string chat_id,
                                   ChatAccess access);

struct ChatPage {
  std::vector<ChatRecord> chats;
  std::string next_cursor;  // empty when this is the last page
};
// Newest activity first (updated_at DESC, id DESC); cursor opaque; limit 1..100.
Task<Result<ChatPage>> list_chats(Ctx& ctx, std::string user_id, size_t limit, std::string cursor);

// Partial update: title and/or visibility (validated by the route).
Task<Result<ChatRecord>> update_chat(Ctx& ctx, ChatRecord chat, std::optional<std::string> title,
                                     std::optional<std::string> visibility);
Task<Status> delete_chat(Ctx& ctx, std::string chat_id);  // messages and votes cascade

// Appends a message at the chat's next seq (atomically bumping next_seq, message_count and
// updated_at). Fills in id (when empty), seq and times.
Task<Result<MessageRecord>> append_message(Ctx& ctx, MessageRecord m);

// Messages in seq order. after_seq/limit page forward (limit 1..200); for_user fills `vote`.
struct MessagePage {
  std::vector<MessageRecord> messages;
  std::string next_cursor;
};
Task<Result<MessagePage>> list_messages(Ctx& ctx, std::string chat_id, std::string for_user,
                                        size_t limit, std::string cursor);
// The newest `max_messages` messages with status complete or partial, returned oldest first:
// the history a prompt is built from.
Task<Result<std::vector<MessageRecord>>> recent_messages(Ctx& ctx, std::string chat_id,
                                                         size_t max_messages);

// A message together with its chat, for the /api/v1/messages/:id routes; ownership as find_chat.
struct OwnedMessage {
  ChatRecord chat;
  MessageRecord message;
};
Task<Result<OwnedMessage>> find_message(Ctx& ctx, std::string user_id, std::string message_id,
                                        ChatAccess access);

// Edit: sets the user message's content and deletes every later message of its chat, in one
// batch. 409 message.not_editable for assistant messages.
Task<Result<MessageRecord>> edit_user_message(Ctx& ctx, OwnedMessage owned, std::string content);
Task<Status> delete_message(Ctx& ctx, OwnedMessage owned);
// One vote per user, changeable (value 1 or -1); returns the message with fresh totals.
Task<Result<MessageRecord>> vote_message(Ctx& ctx, std::string user_id, OwnedMessage owned,
                                         int value);

// Export: {"chat": chat_json, "messages": [message_json…]} or a Markdown transcript (title, then
// "## User"/"## Assistant (provider/model)" sections with each message's content quoted as is,
// sources listed under each answer). See chat_markdown.cpp.
std::string export_chat_markdown(const ChatRecord& chat, const std::vector<MessageRecord>& msgs);

// Seed 001: anonymous (or signed-in) widget chats, keyed by widget id and session.
Task<Result<ChatRecord>> find_or_create_widget_chat(Ctx& ctx, std::string user_id,
                                                    std::string widget_id, std::string session_id);

}  // namespace ec
