# Writes the ```cpp blocks of one Markdown file into a file that doc_blocks.cpp includes, so that
# a doc's examples are compiled the way a user would paste them.
#
# Usage: cmake -DDOC=<file.md> -DNAME=<doc name> -DOUT=<file.inc> -P extract_cpp_blocks.cmake
#
# - A block whose first line is `// fragment` is skipped: it shows part of something (a statement
#   out of its function, a mock declared elsewhere) and cannot compile alone.
# - Every other block is compiled, the blocks of every doc in one translation unit (compile time is
#   CI time), each in a namespace of its own so that two blocks may define the same name. `#include`
#   lines move to the top of the doc's file. A `#line` directive before each block makes the
#   compiler's errors name the doc and the line in it.
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
set(skip OFF)
set(first OFF)
set(line_no 0)
set(blocks 0)
set(compiled 0)
foreach(line IN LISTS lines)
  math(EXPR line_no "${line_no} + 1")
  if(NOT in_block)
    if(line MATCHES "^```cpp[ \t]*$")
      set(in_block ON)
      set(first ON)
      set(skip OFF)
      math(EXPR blocks "${blocks} + 1")
    endif()
    continue()
  endif()
  if(line MATCHES "^```[ \t]*$")
    if(NOT skip)
      string(APPEND body "}  // namespace ${doc_id}_block_${blocks}\n")
    endif()
    set(in_block OFF)
    continue()
  endif()
  if(first)
    set(first OFF)
    if(line MATCHES "^// fragment")
      set(skip ON)
      continue()
    endif()
    math(EXPR compiled "${compiled} + 1")
    string(APPEND body "namespace ${doc_id}_block_${blocks} {\n#line ${line_no} \"${NAME}\"\n")
  endif()
  if(skip)
    continue()
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

set(out "// Generated from ${NAME} by tests/docs/extract_cpp_blocks.cmake: ${compiled} of its ${blocks} C++ blocks
// (the others are marked `// fragment`). Included by doc_blocks.cpp; do not edit, edit the doc.
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
