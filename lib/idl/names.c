/*
 * names.c - which names an interface may use.  Every name becomes a C
 * identifier in generated code (dopy-idl(1)), headers of which C++
 * includes too, so C and C++ keywords are out, and so are dopy's own
 * prefix and the identifiers C reserves.  The words of the language
 * itself are out where they would read as a declaration.
 */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "idl/lex.h"

static const char *const c_words[] = {
	"_Alignas", "_Alignof", "_Atomic", "_Bool", "_Complex", "_Generic",
	"_Imaginary", "_Noreturn", "_Static_assert", "_Thread_local",
	"alignas", "alignof", "auto", "bool", "break", "case", "char",
	"const", "constexpr", "continue", "default", "do", "double", "else",
	"enum", "extern", "false", "float", "for", "goto", "if", "inline",
	"int", "long", "nullptr", "register", "restrict", "return", "short",
	"signed", "sizeof", "static", "static_assert", "struct", "switch",
	"thread_local", "true", "typedef", "typeof", "typeof_unqual",
	"union", "unsigned", "void", "volatile", "while", NULL
};

static const char *const cxx_words[] = {
	"and", "and_eq", "asm", "bitand", "bitor", "catch", "char16_t",
	"char32_t", "char8_t", "class", "co_await", "co_return", "co_yield",
	"compl", "concept", "consteval", "constinit", "const_cast",
	"decltype", "delete", "dynamic_cast", "explicit", "export",
	"friend", "mutable", "namespace", "new", "noexcept", "not",
	"not_eq", "operator", "or", "or_eq", "private", "protected",
	"public", "reinterpret_cast", "requires", "static_cast", "template",
	"this", "throw", "try", "typeid", "typename", "using", "virtual",
	"wchar_t", "xor", "xor_eq", NULL
};

/* Macros of the headers generated code includes. */
static const char *const c_macros[] = {
	"EOF", "NULL", "assert", "errno", "stderr", "stdin", "stdout", NULL
};

/* The language's words, and its type names, which a struct's name
 * would shadow. */
static const char *const idl_words[] = {
	"any", "attr", "bool", "bytes", "class", "double", "error", "int",
	"isolated", "object", "oneway", "raises", "readonly", "ref", "state",
	"string", "struct", "uint", "writable", NULL
};

static int
in(const char *const *words, const char *name)
{
	for (; *words != NULL; words++)
		if (strcmp(*words, name) == 0)
			return 1;
	return 0;
}

int
idl_name_reserved(const char *name)
{
	return in(c_words, name) || in(cxx_words, name) || in(c_macros, name);
}

int
idl_name_check(struct lexer *lx, const char *name, struct idl_pos pos,
    int decl)
{
	/* A parameter may be called class or new: generated code renames
	 * it (class_), as it renames one called result (decl < 0). */
	if (decl < 0 && idl_name_reserved(name))
		;
	else if (in(c_words, name))
		return idl_lex_error(lx, pos, "'%s' is a C keyword", name);
	else if (in(cxx_words, name))
		return idl_lex_error(lx, pos, "'%s' is a C++ keyword", name);
	else if (in(c_macros, name))
		return idl_lex_error(lx, pos, "'%s' is a macro of the C "
		    "library", name);
	if (decl > 0 && in(idl_words, name))
		return idl_lex_error(lx, pos, "'%s' is a word of the interface "
		    "language", name);
	if (strncasecmp(name, "dopy_", 5) == 0)
		return idl_lex_error(lx, pos, "'%s': names starting with dopy_ "
		    "are dopy's own", name);
	if (name[0] == '_')
		return idl_lex_error(lx, pos, "'%s': names starting with '_' "
		    "are reserved in C", name);
	return 0;
}
