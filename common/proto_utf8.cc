#include "common/proto_utf8.h"

#include <google/protobuf/descriptor.h>
#include <google/protobuf/unknown_field_set.h>

#include <vector>

#include "common/text.h"

namespace testfleet {
namespace {

using google::protobuf::Descriptor;
using google::protobuf::FieldDescriptor;
using google::protobuf::Message;
using google::protobuf::Reflection;
using google::protobuf::UnknownField;
using google::protobuf::UnknownFieldSet;

// Sets `value` made valid through `set` when that changes it; returns 1 if it did.
template <typename Set>
size_t replaceIfInvalid(const std::string& value, Set set) {
  std::string valid = validUtf8(value);
  if (valid == value) return 0;
  set(std::move(valid));
  return 1;
}

size_t fixStringField(Message& message, const Reflection& reflection, const FieldDescriptor* field) {
  if (!field->is_repeated()) {
    return replaceIfInvalid(reflection.GetString(message, field),
                            [&](std::string v) { reflection.SetString(&message, field, std::move(v)); });
  }
  size_t changed = 0;
  for (int i = 0; i < reflection.FieldSize(message, field); ++i) {
    changed += replaceIfInvalid(reflection.GetRepeatedString(message, field, i),
                                [&](std::string v) { reflection.SetRepeatedString(&message, field, i, std::move(v)); });
  }
  return changed;
}

// The same walk on the wire: `fields` is one message of type `type`, its length-delimited fields still raw.
bool fixWireStrings(UnknownFieldSet& fields, const Descriptor& type) {
  for (int i = 0; i < fields.field_count(); ++i) {
    UnknownField& field = *fields.mutable_field(i);
    const FieldDescriptor* described = type.FindFieldByNumber(field.number());
    if (field.type() != UnknownField::TYPE_LENGTH_DELIMITED || described == nullptr) continue;
    if (described->type() == FieldDescriptor::TYPE_STRING) {
      *field.mutable_length_delimited() = validUtf8(field.length_delimited());
    } else if (described->type() == FieldDescriptor::TYPE_MESSAGE) {
      UnknownFieldSet nested;
      if (!nested.ParseFromString(field.length_delimited())) return false;
      if (!fixWireStrings(nested, *described->message_type())) return false;
      field.mutable_length_delimited()->clear();
      nested.SerializeToString(field.mutable_length_delimited());
    }
  }
  return true;
}

}  // namespace

size_t makeStringsValidUtf8(Message& message) {
  const Reflection& reflection = *message.GetReflection();
  std::vector<const FieldDescriptor*> fields;
  reflection.ListFields(message, &fields);  // the fields that are set, maps as repeated entry messages
  size_t changed = 0;
  for (const FieldDescriptor* field : fields) {
    if (field->type() == FieldDescriptor::TYPE_STRING) {
      changed += fixStringField(message, reflection, field);
    } else if (field->cpp_type() == FieldDescriptor::CPPTYPE_MESSAGE && field->is_repeated()) {
      for (int i = 0; i < reflection.FieldSize(message, field); ++i) {
        changed += makeStringsValidUtf8(*reflection.MutableRepeatedMessage(&message, field, i));
      }
    } else if (field->cpp_type() == FieldDescriptor::CPPTYPE_MESSAGE) {
      changed += makeStringsValidUtf8(*reflection.MutableMessage(&message, field));
    }
  }
  return changed;
}

bool parseMakingStringsValidUtf8(const std::string& wire, Message& message) {
  UnknownFieldSet fields;
  if (!fields.ParseFromString(wire) || !fixWireStrings(fields, *message.GetDescriptor())) return false;
  std::string repaired;
  fields.SerializeToString(&repaired);
  return message.ParseFromString(repaired);
}

}  // namespace testfleet
