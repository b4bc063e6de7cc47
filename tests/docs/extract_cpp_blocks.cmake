# Writes the ```cpp blocks of one Markdown file into a file that doc_blocks.cpp includes, so that
# a doc's examples are compiled the way a user would paste them.
#
# Usage: cmake -DDOC=<file.md> -DNAME=<doc name> -DOUT=<file.inc> -P extract_cpp_blocks.cmake
#
# - Every block is compiled, the blocks of every doc in one translation unit (compile time is CI
#   time), each in a namespace of its own so that two blocks may define the same name. `#include`
#   lines move to the top of the doc's file. A `#line` directive before each block makes the
#   compiler's errors name the doc and the line in it.
# - A block whose first line is `// fragment` shows part of something (statements out of their
#   function, a member defined out of its class, a test whose helpers live elsewhere). It is
#   compiled inside the code of an HTML comment right before it, which readers of the rendered doc
#   do not see:
#
#       <!-- fragment wrapper:
#       asio::awaitable<std::string> fetch_with_retry(...);   // what the fragment takes as given
#       asio::awaitable<void> fragment(faultline::sim_context& sim) {
#       @@
#       }
#       -->
#       ```cpp
#       // fragment
#       auto r = co_await fetch_with_retry(...);
#       ```
#
#   The line `@@` stands for the fragment; a wrapper's `#include` lines move to the top like a
#   block's. A fragment without a wrapper, or a wrapper that is not
#   followed by a fragment, stops the build naming the doc and line: no block goes unchecked.
# - Blocks may use what a test file using faultline has at hand: see doc_blocks.cpp.
string(MAKE_C_IDENTIFIER "${NAME}" doc_id)
file(READ "${DOC}" text)
# Keep semicolons and brackets intact through CMake's list handling.
string(REPLACE ";" "@SEMI@" text "${text}")
string(REPLACE "[" "@LB@" text "${text}")
string(REPLACE "]" "@RB@" text "${text}")
string(REPLACE "\n" ";" lines "${text}")

set(includes "")
set(body "")
set(in_block OFF)
set(in_wrapper OFF)
set(first OFF)
set(line_no 0)
set(blocks 0)
set(fragments 0)
set(wrapper_line 0)     # the line of the pending wrapper's opening comment; 0: none pending
set(wrapper_before "")  # the pending wrapper's code before `@@`, and after it
set(wrapper_after "")
set(wrapper_part before)
set(block_after "")     # what closes the block being read (a fragment's wrapper code after `@@`)
foreach(line IN LISTS lines)
  math(EXPR line_no "${line_no} + 1")
  if(in_wrapper)
    if(line MATCHES "^-->[ \t]*$")
      set(in_wrapper OFF)
      if(wrapper_part STREQUAL "before")
        message(FATAL_ERROR "${NAME}:${wrapper_line}: a fragment wrapper has no `@@` line where the fragment goes")
      endif()
    elseif(line MATCHES "^@@[ \t]*$")
      set(wrapper_part after)
      math(EXPR next "${line_no} + 1")
      string(APPEND wrapper_after "#line ${next} \"${NAME}\"\n")
    elseif(line MATCHES "^#include ")
      string(APPEND includes "${line}\n")
      if(wrapper_part STREQUAL "before")
        string(APPEND wrapper_before "\n")
      else()
        string(APPEND wrapper_after "\n")
      endif()
    elseif(wrapper_part STREQUAL "before")
      string(APPEND wrapper_before "${line}\n")
    else()
      string(APPEND wrapper_after "${line}\n")
    endif()
    continue()
  endif()
  if(NOT in_block)
    if(line MATCHES "^<!-- fragment wrapper:[ \t]*$")
      if(wrapper_line)
        message(FATAL_ERROR "${NAME}:${wrapper_line}: a fragment wrapper is not followed by a ```cpp block")
      endif()
      set(in_wrapper ON)
      set(wrapper_line ${line_no})
      math(EXPR next "${line_no} + 1")
      set(wrapper_before "#line ${next} \"${NAME}\"\n")
      set(wrapper_after "")
      set(wrapper_part before)
    elseif(line MATCHES "^```cpp[ \t]*$")
      set(in_block ON)
      set(first ON)
      math(EXPR blocks "${blocks} + 1")
    elseif(wrapper_line AND NOT line MATCHES "^[ \t]*$")
      message(FATAL_ERROR "${NAME}:${wrapper_line}: a fragment wrapper must come right before its ```cpp block (only blank lines between)")
    endif()
    continue()
  endif()
  if(line MATCHES "^```[ \t]*$")
    string(APPEND body "${block_after}}  // namespace ${doc_id}_block_${blocks}\n")
    set(block_after "")
    set(in_block OFF)
    continue()
  endif()
  if(first)
    set(first OFF)
    string(APPEND body "namespace ${doc_id}_block_${blocks} {\n")
    if(line MATCHES "^// fragment")
      if(NOT wrapper_line)
        message(FATAL_ERROR "${NAME}:${line_no}: this `// fragment` block has no wrapper to compile it in; "
                            "put a `<!-- fragment wrapper: ... @@ ... -->` comment right before it (see tests/docs/extract_cpp_blocks.cmake)")
      endif()
      math(EXPR fragments "${fragments} + 1")
      string(APPEND body "${wrapper_before}")
      set(block_after "${wrapper_after}")
      set(wrapper_line 0)
    elseif(wrapper_line)
      message(FATAL_ERROR "${NAME}:${wrapper_line}: a fragment wrapper is followed by a block that does not start with `// fragment`")
    endif()
    string(APPEND body "#line ${line_no} \"${NAME}\"\n")
  endif()
  if(line MATCHES "^#include ")
    string(APPEND includes "${line}\n")
    string(APPEND body "\n")  # keeps the #line numbering
  else()
    string(APPEND body "${line}\n")
  endif()
endforeach()
if(in_block)
  message(FATAL_ERROR "${DOC}: a ```cpp block is not closed")
endif()
if(in_wrapper OR wrapper_line)
  message(FATAL_ERROR "${NAME}:${wrapper_line}: a fragment wrapper is not followed by a ```cpp block")
endif()

set(out "// Generated from ${NAME} by tests/docs/extract_cpp_blocks.cmake: its ${blocks} C++ blocks,
// ${fragments} of them fragments compiled inside their wrappers. Included by doc_blocks.cpp; do not
// edit, edit the doc.
${includes}
${body}")
string(REPLACE "@SEMI@" ";" out "${out}")
string(REPLACE "@LB@" "[" out "${out}")
string(REPLACE "@RB@" "]" out "${out}")
# Rewrite only on change, so an unchanged doc does not recompile.
if(EXISTS "${OUT}")
  file(READ "${OUT}" old)
  if(old STREQUAL out)
    return()
  endif()
endif()
file(WRITE "${OUT}" "${out}")
