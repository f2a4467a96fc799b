"""The 1C extension (`adapters/onec/extension/`), checked by structure: no 1C platform runs here.

What these tests can say: the exported files are well-formed and consistent with each other, the
HTTP service and the web service match the contract files path by path and operation by operation,
the BSL modules are balanced block by block, and the push signature the BSL code computes (same
canonical string, same HMAC steps) is the one design 5.4 specifies, and the production fitness of
issue 18 as far as text can show it: settings in the extension's own objects, no lock without a key,
rights checked before the document is read, each error code where the contract says, the audit and
the phone index. What they cannot say: that the platform loads the files, that the code compiles,
or that УХ's procedures are called correctly (see docs/onec-extension.md).
"""

from __future__ import annotations

import hashlib
import hmac
import re
import shutil
import subprocess
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml
from lxml import etree

from sandbox.onec.push import sign as sandbox_sign

ROOT = Path(__file__).resolve().parents[2]
EXT = ROOT / "adapters" / "onec" / "extension"
CONTRACT = ROOT / "adapters" / "onec" / "contract"
MD = "http://v8.1c.ru/8.3/MDClasses"
XR = "http://v8.1c.ru/8.3/xcf/readable"
V8 = "http://v8.1c.ru/8.1/data/core"
XDTO = "http://v8.1c.ru/8.1/xdto"
WSDL = "http://schemas.xmlsoap.org/wsdl/"
XSD = "http://www.w3.org/2001/XMLSchema"
TNS = "http://tg1c.ru/approvals/v1"
NS = {"md": MD, "xr": XR, "v8": V8, "wsdl": WSDL, "xs": XSD, "x": XDTO}

# Configuration.xml child tag -> folder of the export ("Выгрузить конфигурацию в файлы").
FOLDERS = {
    "Language": "Languages",
    "Role": "Roles",
    "CommonModule": "CommonModules",
    "CommonForm": "CommonForms",
    "XDTOPackage": "XDTOPackages",
    "WebService": "WebServices",
    "HTTPService": "HTTPServices",
    "EventSubscription": "EventSubscriptions",
    "ScheduledJob": "ScheduledJobs",
    "Constant": "Constants",
    "Catalog": "Catalogs",
    "InformationRegister": "InformationRegisters",
    "BusinessProcess": "BusinessProcesses",
    "Task": "Tasks",
}
# Objects whose code lives in Ext/Module.bsl next to their XML (a form's in Ext/Form/Module.bsl).
WITH_MODULE = ("CommonModule", "HTTPService", "WebService", "CommonForm")
# Names the BSL code uses for metadata collections -> Configuration.xml tag.
BSL_COLLECTIONS = {
    "Константы": "Constant",
    "Константа": "Constant",
    "РегистрыСведений": "InformationRegister",
    "РегистрСведений": "InformationRegister",
    "РегламентныеЗадания": "ScheduledJob",
}


def parse(path: Path) -> etree._ElementTree:
    return etree.parse(str(path), etree.XMLParser(resolve_entities=False, no_network=True))


def configuration() -> etree._Element:
    return parse(EXT / "Configuration.xml").getroot()


def children() -> list[tuple[str, str]]:
    """(tag, name) of every object Configuration.xml lists."""
    objects = configuration().find("md:Configuration/md:ChildObjects", NS)
    return [(etree.QName(child).localname, child.text or "") for child in objects]


def object_file(tag: str, name: str) -> Path:
    return EXT / FOLDERS[tag] / f"{name}.xml"


def object_root(tag: str, name: str) -> etree._Element:
    root = parse(object_file(tag, name)).getroot()
    element = root.find(f"md:{tag}", NS)
    assert element is not None, f"{object_file(tag, name)} holds no <{tag}>"
    return element


def module_path(tag: str, name: str) -> Path:
    if tag == "CommonForm":
        return EXT / FOLDERS[tag] / name / "Ext" / "Form" / "Module.bsl"
    return EXT / FOLDERS[tag] / name / "Ext" / "Module.bsl"


def module_text(tag: str, name: str) -> str:
    return module_path(tag, name).read_text(encoding="utf-8-sig")


def all_modules() -> list[Path]:
    return sorted(EXT.rglob("*.bsl"))


def names_of(tag: str) -> set[str]:
    return {name for child_tag, name in children() if child_tag == tag}


# ---------------------------------------------------------------- BSL reading helpers


def strip_bsl(text: str) -> str:
    """The code with comments removed and string literals emptied (query texts included).

    Preprocessor lines (`#Область`) are kept; a string literal spans lines (1C's `|` continuation).
    """
    out: list[str] = []
    i, in_string = 0, False
    while i < len(text):
        ch = text[i]
        if in_string:
            if ch == '"':
                if text.startswith('""', i):
                    i += 2
                    continue
                in_string = False
                out.append('"')
            elif ch == "\n":
                out.append("\n")
            i += 1
        elif ch == '"':
            in_string = True
            out.append('"')
            i += 1
        elif text.startswith("//", i):
            end = text.find("\n", i)
            i = len(text) if end < 0 else end
        else:
            out.append(ch)
            i += 1
    assert not in_string, "an unterminated string literal"
    return "".join(out)


WORD = re.compile(r"#?[\wА-Яа-яЁё]+")
OPENERS = {
    "процедура": "конецпроцедуры",
    "функция": "конецфункции",
    "если": "конецесли",
    "цикл": "конеццикла",
    "попытка": "конецпопытки",
    "#область": "#конецобласти",
}
CLOSERS = {closer: opener for opener, closer in OPENERS.items()}
MIDDLE = {"иначеесли": "если", "иначе": "если", "исключение": "попытка"}


def block_problems(text: str) -> list[str]:
    """Unbalanced or crossed blocks of a BSL module, with line numbers (empty when fine).

    `Для ... Цикл` and `Пока ... Цикл` both open with `Цикл`; `Иначе` inside `Попытка` is not
    valid BSL, `Исключение` outside `Попытка` neither; a `Для`/`Пока` needs its `Цикл`.
    """
    problems: list[str] = []
    stack: list[tuple[str, int]] = []
    loop_heads = 0
    for number, line in enumerate(strip_bsl(text).splitlines(), 1):
        for word in (w.lower() for w in WORD.findall(line)):
            if word in ("для", "пока"):
                loop_heads += 1
            elif word == "цикл":
                loop_heads -= 1
            if word in OPENERS:
                stack.append((word, number))
            elif word in CLOSERS:
                if not stack or stack[-1][0] != CLOSERS[word]:
                    opened = f"{stack[-1][0]} of line {stack[-1][1]}" if stack else "nothing"
                    problems.append(f"line {number}: {word} closes {opened}")
                else:
                    stack.pop()
            elif word in MIDDLE and (not stack or stack[-1][0] != MIDDLE[word]):
                problems.append(f"line {number}: {word} outside {MIDDLE[word]}")
    problems += [f"line {line}: {word} is never closed" for word, line in stack]
    if loop_heads:
        problems.append(f"{loop_heads} Для/Пока without their Цикл")
    return problems


METHOD = re.compile(
    r"^\s*(Процедура|Функция)\s+([\wА-Яа-яЁё]+)\s*\(([^)]*)\)\s*(Экспорт)?", re.MULTILINE
)


def methods(text: str) -> dict[str, tuple[list[str], bool]]:
    """Method name -> (parameter names, exported) of a BSL module."""
    found: dict[str, tuple[list[str], bool]] = {}
    for match in METHOD.finditer(strip_bsl(text)):
        params = [
            p.split("=")[0].replace("Знач ", "").strip()
            for p in match.group(3).split(",")
            if p.strip()
        ]
        assert match.group(2) not in found, f"{match.group(2)} is defined twice"
        found[match.group(2)] = (params, bool(match.group(4)))
    return found


def method_body(text: str, name: str) -> str:
    """The code of one method (comments kept), from its header to its end keyword."""
    match = re.search(
        rf"^(Процедура|Функция)\s+{name}\s*\(.*?^(КонецПроцедуры|КонецФункции)",
        text,
        re.MULTILINE | re.DOTALL,
    )
    assert match, f"no method {name}"
    return match.group(0)


# ---------------------------------------------------------------- files and references


def test_every_xml_file_of_the_extension_is_well_formed() -> None:
    files = [*EXT.rglob("*.xml"), *EXT.rglob("*.bin")]
    assert len(files) > 20
    for path in files:
        parse(path)


def test_the_extension_declares_itself_as_a_customization_extension_with_a_prefix() -> None:
    props = configuration().find("md:Configuration/md:Properties", NS)
    assert props.findtext("md:ConfigurationExtensionPurpose", namespaces=NS) == "Customization"
    assert props.findtext("md:NamePrefix", namespaces=NS) == "тг_"
    mode = props.findtext("md:ConfigurationExtensionCompatibilityMode", namespaces=NS)
    assert re.fullmatch(r"Version8_3_\d+", mode or "")
    assert configuration().get("version") == "2.16"


def test_every_object_listed_in_configuration_xml_has_its_file_and_vice_versa() -> None:
    listed = children()
    assert len(listed) == len(set(listed)), "an object is listed twice"
    for tag, name in listed:
        assert tag in FOLDERS, f"unexpected object kind {tag}"
        element = object_root(tag, name)
        assert element.findtext("md:Properties/md:Name", namespaces=NS) == name
    on_disk = {
        (tag, path.stem) for tag, folder in FOLDERS.items() for path in (EXT / folder).glob("*.xml")
    }
    assert on_disk == set(listed)
    assert {p.name for p in EXT.iterdir() if p.is_dir()} == set(FOLDERS.values())


def test_own_objects_carry_the_prefix_and_adopted_ones_are_marked_adopted() -> None:
    for tag, name in children():
        belonging = object_root(tag, name).findtext(
            "md:Properties/md:ObjectBelonging", namespaces=NS
        )
        if belonging == "Adopted":
            assert tag in ("Language", "BusinessProcess", "Task", "Catalog")
        elif (tag, name) != ("WebService", "Approvals"):
            # The web service keeps the WSDL's service name: the platform derives it (and the
            # soapAction) from the object name.
            assert name.startswith("тг_"), f"{tag}.{name} lacks the prefix"


def test_every_module_object_has_its_module_and_no_module_is_orphaned() -> None:
    expected = {module_path(tag, name) for tag, name in children() if tag in WITH_MODULE}
    for path in expected:
        assert path.is_file(), f"missing {path.relative_to(EXT)}"
    assert set(all_modules()) == expected


def test_uuids_are_well_formed_and_unique() -> None:
    seen: dict[str, Path] = {}
    for path in EXT.rglob("*.xml"):
        root = parse(path).getroot()
        values = [e.get("uuid") for e in root.iter() if e.get("uuid")]
        values += [
            e.text for e in root.iter(f"{{{XR}}}TypeId", f"{{{XR}}}ValueId", f"{{{XR}}}ObjectId")
        ]
        values += [e.text for e in root.iter(f"{{{MD}}}ExtendedConfigurationObject")]
        for value in values:
            assert value is not None
            assert str(uuid.UUID(value)) == value, f"{value} in {path.name} is not a GUID"
            assert value not in seen, f"{value} in {path.name} and {seen[value].name}"
            seen[value] = path
    assert len(seen) > 100


def test_generated_types_name_their_own_object() -> None:
    for tag, name in children():
        for generated in object_root(tag, name).iterfind("md:InternalInfo/xr:GeneratedType", NS):
            assert generated.get("name").endswith("." + name)


def test_event_subscriptions_call_exported_handlers_on_adopted_sources() -> None:
    adopted = {
        f"{tag}Object.{name}"
        for tag, name in children()
        if tag in ("Task", "BusinessProcess", "Catalog")
    }
    names = names_of("EventSubscription")
    assert names
    for name in names:
        props = object_root("EventSubscription", name).find("md:Properties", NS)
        for source in props.iterfind("md:Source/v8:Type", NS):
            assert source.text.removeprefix("cfg:") in adopted
        assert props.findtext("md:Event", namespaces=NS) in ("BeforeWrite", "OnWrite")
        kind, module, method = props.findtext("md:Handler", namespaces=NS).split(".")
        assert kind == "CommonModule"
        params, exported = methods(module_text("CommonModule", module))[method]
        assert exported and params == ["Источник", "Отказ"]


def test_scheduled_jobs_call_exported_procedures_without_parameters() -> None:
    names = names_of("ScheduledJob")
    assert names
    for name in names:
        method_name = object_root("ScheduledJob", name).findtext(
            "md:Properties/md:MethodName", namespaces=NS
        )
        kind, module, method = method_name.split(".")
        assert kind == "CommonModule"
        params, exported = methods(module_text("CommonModule", module))[method]
        assert exported and params == []


def granted_by(role: str) -> dict[str, set[str]]:
    """Object name -> rights the role grants on it."""
    rights = parse(EXT / "Roles" / role / "Ext" / "Rights.xml").getroot()
    found: dict[str, set[str]] = {}
    for obj in rights.iterfind("{http://v8.1c.ru/8.2/roles}object"):
        name = obj.findtext("{http://v8.1c.ru/8.2/roles}name")
        found[name] = {
            r.findtext("{http://v8.1c.ru/8.2/roles}name")
            for r in obj.iterfind("{http://v8.1c.ru/8.2/roles}right")
            if r.findtext("{http://v8.1c.ru/8.2/roles}value") == "true"
        }
    return found


def test_the_service_role_grants_exactly_the_calls_of_the_services() -> None:
    assert names_of("Role") == {"тг_ШлюзTelegram", "тг_НастройкаШлюзаTelegram"}
    existing = set()
    for name in names_of("HTTPService"):
        for template in object_root("HTTPService", name).iterfind(
            "md:ChildObjects/md:URLTemplate", NS
        ):
            template_name = template.findtext("md:Properties/md:Name", namespaces=NS)
            for method in template.iterfind("md:ChildObjects/md:Method", NS):
                method_name = method.findtext("md:Properties/md:Name", namespaces=NS)
                existing.add(f"HTTPService.{name}.URLTemplate.{template_name}.Method.{method_name}")
    for name in names_of("WebService"):
        for operation in object_root("WebService", name).iterfind(
            "md:ChildObjects/md:Operation", NS
        ):
            op_name = operation.findtext("md:Properties/md:Name", namespaces=NS)
            existing.add(f"WebService.{name}.Operation.{op_name}")
    granted = granted_by("тг_ШлюзTelegram")
    assert set(granted) == existing, "the gateway's role must be able to call every method"
    assert all(rights == {"Use"} for rights in granted.values()), "and do nothing else"


def test_the_settings_role_edits_the_settings_and_only_reads_the_audit() -> None:
    granted = granted_by("тг_НастройкаШлюзаTelegram")
    for name in granted:
        kind, _, own = name.partition(".")
        assert own in names_of(kind), name
    assert granted["CommonForm.тг_НастройкиШлюзаTelegram"] == {"View"}
    for register in ("тг_ПроцессыСогласования", "тг_ДокументыСогласования"):
        assert {"Read", "Update"} <= granted[f"InformationRegister.{register}"]
    assert granted["InformationRegister.тг_РешенияИзTelegram"] == {"Read", "View"}
    assert "Update" in granted["Constant.тг_СекретPush"]


def test_calls_between_the_extensions_modules_reach_exported_methods() -> None:
    exported = {
        name: {
            m
            for m, (_, is_exported) in methods(module_text("CommonModule", name)).items()
            if is_exported
        }
        for name in names_of("CommonModule")
    }
    calls = 0
    for path in all_modules():
        for module, method in re.findall(
            r"(?<![.\w])(тг_\w+)\.(\w+)\s*\(", strip_bsl(path.read_text("utf-8"))
        ):
            assert module in exported, f"{path.relative_to(EXT)} calls unknown module {module}"
            assert method in exported[module], f"{module}.{method} is not exported"
            calls += 1
    assert calls > 30


def test_metadata_the_code_names_exists_in_the_extension() -> None:
    pattern = re.compile(r"\b(" + "|".join(BSL_COLLECTIONS) + r")\.(тг_[\wА-Яа-яЁё]+)")
    found = 0
    for path in all_modules():
        text = path.read_text("utf-8")  # query texts and lock names are inside strings: keep them
        for collection, name in pattern.findall(text):
            assert name in names_of(BSL_COLLECTIONS[collection]), (
                f"{collection}.{name} in {path.name}"
            )
            found += 1
    assert found > 10


def test_handlers_named_in_the_http_service_are_functions_of_its_module() -> None:
    for name in names_of("HTTPService"):
        defined = methods(module_text("HTTPService", name))
        for method in object_root("HTTPService", name).iter(f"{{{MD}}}Method"):
            handler = method.findtext("md:Properties/md:Handler", namespaces=NS)
            assert defined[handler][0] == ["Запрос"]


# ---------------------------------------------------------------- HTTP service vs OpenAPI


def openapi() -> dict:
    return yaml.safe_load((CONTRACT / "openapi.yaml").read_text(encoding="utf-8"))


def test_the_http_service_publishes_at_the_contracts_root() -> None:
    (name,) = names_of("HTTPService")
    root_url = object_root("HTTPService", name).findtext("md:Properties/md:RootURL", namespaces=NS)
    server = openapi()["servers"][0]
    assert server["url"] == "{base}/hs/{root}/v1"
    assert root_url == server["variables"]["root"]["default"] == "approvals"


def test_the_http_service_has_the_contracts_paths_and_methods() -> None:
    (name,) = names_of("HTTPService")
    service: dict[str, set[str]] = {}
    for template in object_root("HTTPService", name).iterfind("md:ChildObjects/md:URLTemplate", NS):
        path = template.findtext("md:Properties/md:Template", namespaces=NS)
        verbs = {
            m.findtext("md:Properties/md:HTTPMethod", namespaces=NS)
            for m in template.iterfind("md:ChildObjects/md:Method", NS)
        }
        assert path not in service, f"template {path} twice"
        service[path] = verbs
    contract = {
        "/v1" + path: {verb.upper() for verb in item if verb != "parameters"}
        for path, item in openapi()["paths"].items()
    }
    for path, verbs in contract.items():
        assert service.get(path) == verbs, f"{path}: contract {verbs}, service {service.get(path)}"
    assert service.keys() == contract.keys()


def test_the_http_service_reads_the_contracts_parameters_by_their_names() -> None:
    """Each handler reads exactly the query and path parameters the OpenAPI document declares."""
    (name,) = names_of("HTTPService")
    text = module_text("HTTPService", name)
    spec = openapi()
    for template in object_root("HTTPService", name).iterfind("md:ChildObjects/md:URLTemplate", NS):
        path = template.findtext("md:Properties/md:Template", namespaces=NS).removeprefix("/v1")
        item = spec["paths"][path]
        for method in template.iterfind("md:ChildObjects/md:Method", NS):
            verb = method.findtext("md:Properties/md:HTTPMethod", namespaces=NS).lower()
            params = [*item.get("parameters", []), *item[verb].get("parameters", [])]
            expected = {
                (
                    "ПараметрыURL" if "$ref" in p else "ПараметрыЗапроса",
                    "id" if "$ref" in p else p["name"],
                )
                for p in params
            }
            body = method_body(text, method.findtext("md:Properties/md:Handler", namespaces=NS))
            used = set(re.findall(r"(ПараметрыURL|ПараметрыЗапроса)\.Получить\(\"(\w+)\"\)", body))
            assert used == expected, path


def test_decisions_are_checked_in_the_contracts_order() -> None:
    """Known key replays first, then 404, 422, 403, 409 (design 5.4), in the BSL as written."""
    text = module_text("CommonModule", "тг_ШлюзСервер")
    decide = method_body(text, "ПринятьРешение")
    assert decide.index("СохраненныйОтвет(Ключ)") < decide.index("ВыполнитьРешение(")
    checks = method_body(text, "ВыполнитьРешение")
    order = [checks.index(f"Ошибка({code}") for code in (404, 422, 403, 409)]
    assert order == sorted(order)
    assert checks.index("Ошибка(409") < checks.index("тг_АдаптерУХ.ВыполнитьРешение(")


# ---------------------------------------------------------------- web service vs WSDL


def wsdl() -> etree._Element:
    return parse(CONTRACT / "approvals.wsdl").getroot()


def qname(element: etree._Element, value: str) -> str:
    """`{namespace}local` of a prefixed type name, resolved on the element that carries it."""
    prefix, _, local = value.rpartition(":")
    return f"{{{element.nsmap[prefix or None]}}}{local}"


def test_the_web_service_has_the_wsdls_name_namespace_and_descriptor() -> None:
    (name,) = names_of("WebService")
    props = object_root("WebService", name).find("md:Properties", NS)
    assert name == wsdl().find("wsdl:service", NS).get("name") == "Approvals"
    assert props.findtext("md:Namespace", namespaces=NS) == wsdl().get("targetNamespace") == TNS
    (package,) = [i.text for i in props.iterfind("md:XDTOPackages/xr:Item", NS)]
    assert package == "XDTOPackage." + next(iter(names_of("XDTOPackage")))
    action = wsdl().find(".//wsdl:binding/wsdl:operation/{*}operation", NS).get("soapAction")
    assert action.startswith(f"{TNS}#{name}:")


def test_the_web_service_has_the_wsdls_operations_with_their_parameters() -> None:
    (name,) = names_of("WebService")
    root = wsdl()
    schema = root.find("wsdl:types/xs:schema", NS)
    port_ops = [op.get("name") for op in root.iterfind("wsdl:portType/wsdl:operation", NS)]
    module = methods(module_text("WebService", name))

    service_ops = []
    for operation in object_root("WebService", name).iterfind("md:ChildObjects/md:Operation", NS):
        props = operation.find("md:Properties", NS)
        op_name = props.findtext("md:Name", namespaces=NS)
        service_ops.append(op_name)
        params = [
            (
                p.findtext("md:Properties/md:Name", namespaces=NS),
                qname(
                    p.find("md:Properties/md:XDTOValueType", NS),
                    p.findtext("md:Properties/md:XDTOValueType", namespaces=NS),
                ),
                p.findtext("md:Properties/md:Nillable", namespaces=NS) == "true",
            )
            for p in operation.iterfind("md:ChildObjects/md:Parameter", NS)
        ]
        request = schema.find(f"xs:element[@name='{op_name}']", NS)
        expected = [
            (e.get("name"), qname(e, e.get("type")), e.get("nillable") == "true")
            for e in request.iterfind("xs:complexType/xs:sequence/xs:element", NS)
        ]
        assert params == expected, op_name
        returned = props.find("md:XDTOReturningValueType", NS)
        response = schema.find(
            f"xs:element[@name='{op_name}Response']/xs:complexType/xs:sequence/xs:element", NS
        )
        assert response.get("name") == "return"
        assert qname(returned, returned.text) == qname(response, response.get("type")), op_name
        procedure = props.findtext("md:ProcedureName", namespaces=NS)
        assert module[procedure][0] == [p[0] for p in params], op_name
    assert service_ops == port_ops


def test_the_xdto_package_mirrors_the_wsdls_types() -> None:
    (name,) = names_of("XDTOPackage")
    props = object_root("XDTOPackage", name).find("md:Properties", NS)
    assert props.findtext("md:Namespace", namespaces=NS) == TNS
    package = parse(EXT / "XDTOPackages" / name / "Ext" / "Package.bin").getroot()
    assert package.get("targetNamespace") == TNS
    ours = {
        t.get("name"): [
            (
                p.get("name"),
                qname(p, p.get("type")),
                int(p.get("lowerBound", "1")),
                int(p.get("upperBound", "1")),
                p.get("nillable") == "true",
            )
            for p in t.iterfind("x:property", NS)
        ]
        for t in package.iterfind("x:objectType", NS)
    }
    schema = wsdl().find("wsdl:types/xs:schema", NS)
    theirs = {
        t.get("name"): [
            (
                e.get("name"),
                qname(e, e.get("type")),
                int(e.get("minOccurs", "1")),
                -1 if e.get("maxOccurs") == "unbounded" else int(e.get("maxOccurs", "1")),
                e.get("nillable") == "true",
            )
            for e in t.iterfind("xs:sequence/xs:element", NS)
        ]
        for t in schema.iterfind("xs:complexType", NS)
    }
    assert ours == theirs


# ---------------------------------------------------------------- push signature


def hmac_module() -> str:
    return module_text("CommonModule", "тг_ПодписьHMAC")


def bsl_constant(text: str, name: str) -> int:
    (value,) = re.findall(rf"^\s*{name}\s*=\s*(\d+);", text, re.MULTILINE)
    return int(value)


def canonical_string_as_the_bsl_builds_it(timestamp: str, body: str) -> str:
    """Evaluates the one `Возврат` of КаноническаяСтрокаПодписи: parameters, literals and `+`."""
    function = method_body(hmac_module(), "КаноническаяСтрокаПодписи")
    header = re.match(r"Функция\s+\w+\s*\(([^)]*)\)", function)
    assert header is not None, "КаноническаяСтрокаПодписи is not a function"
    params = header.group(1)
    names = [p.strip() for p in params.split(",")]
    (expression,) = re.findall(r"^\s*Возврат\s+(.+?);", function, re.MULTILINE)
    values = dict(zip(names, (timestamp, body), strict=True))
    parts = []
    for term in (t.strip() for t in expression.split("+")):
        if term.startswith('"') and term.endswith('"'):
            parts.append(term[1:-1].replace('""', '"'))
        else:
            parts.append(values[term])
    return "".join(parts)


def bsl_hmac_sha256(key: bytes, data: bytes) -> bytes:
    """HMACSHA256 of the BSL module, step by step, with the module's own constants."""
    text = method_body(hmac_module(), "HMACSHA256")
    block = bsl_constant(text, "РазмерБлока")
    inner_pad = bsl_constant(text, "ВнутреннееДополнение")
    outer_pad = bsl_constant(text, "ВнешнееДополнение")
    if len(key) > block:  # Если Ключ.Размер() > РазмерБлока Тогда Ключ = SHA256(Ключ)
        key = hashlib.sha256(key).digest()
    key_block = bytearray(block)  # Новый БуферДвоичныхДанных(РазмерБлока): zeros
    key_block[: len(key)] = key
    inner = bytes(b ^ inner_pad for b in key_block)  # ПобитовоеИсключительноеИли(Байт, 54)
    outer = bytes(b ^ outer_pad for b in key_block)
    inner_hash = hashlib.sha256(
        inner + data
    ).digest()  # СоединитьДвоичныеДанные + ХешированиеДанных
    return hashlib.sha256(outer + inner_hash).digest()


def bsl_signature(secret: str, timestamp: str, body: bytes) -> str:
    """ЗначениеЗаголовкаПодписи: UTF-8 of the canonical prefix, then the body's own bytes."""
    prefix = canonical_string_as_the_bsl_builds_it(timestamp, "").encode("utf-8")
    digest = bsl_hmac_sha256(secret.encode("utf-8"), prefix + body)
    return "sha256=" + digest.hex()


SECRETS = [
    "test-gateway-secret-0123456789",
    "секрет-шлюза",  # Cyrillic: UTF-8 bytes, not code points
    "k" * 64,  # exactly one block: used as is
    "k" * 65,  # longer than a block: hashed first
    "x" * 300,
    "",
]
BODIES = [
    b'{"events":[{"seq":1,"type":"created","task_id":"0d6c0c1e-0000-4000-8000-000000000001",'
    b'"at":"2026-11-27T10:15:00+03:00"}]}',
    '{"events":[],"note":"Согласование"}'.encode(),
    b"",
]


def test_the_canonical_string_is_timestamp_dot_body() -> None:
    assert canonical_string_as_the_bsl_builds_it("1764231300", "{}") == "1764231300.{}"
    assert canonical_string_as_the_bsl_builds_it("1", "a.b") == "1.a.b"


def test_the_bsl_hmac_uses_sha256_blocks_and_the_standard_pads() -> None:
    text = method_body(hmac_module(), "HMACSHA256")
    assert bsl_constant(text, "РазмерБлока") == 64
    assert bsl_constant(text, "ВнутреннееДополнение") == 0x36
    assert bsl_constant(text, "ВнешнееДополнение") == 0x5C
    assert "ХешФункция.SHA256" in hmac_module()
    assert "ПобитовоеИсключительноеИли" in text


@pytest.mark.parametrize("secret", SECRETS)
@pytest.mark.parametrize("body", BODIES)
def test_the_bsl_signature_equals_hmac_sha256_of_timestamp_dot_body(
    secret: str, body: bytes
) -> None:
    timestamp = "1764231300"
    expected = hmac.new(
        secret.encode(), f"{timestamp}.{body.decode()}".encode(), hashlib.sha256
    ).hexdigest()
    assert bsl_signature(secret, timestamp, body) == "sha256=" + expected
    assert bsl_signature(secret, timestamp, body) == sandbox_sign(secret, timestamp, body)


def test_the_signature_header_is_lowercase_hex_after_sha256_equals() -> None:
    function = method_body(hmac_module(), "ЗначениеЗаголовкаПодписи")
    assert re.search(
        r'Возврат "sha256=" \+ НРег\(ПолучитьHexСтрокуИзДвоичныхДанных\(HMACSHA256\(', function
    )
    utf8 = method_body(hmac_module(), "БайтыUTF8")
    assert "ПолучитьДвоичныеДанныеИзСтроки(Строка, КодировкаТекста.UTF8, Ложь)" in utf8  # no BOM


def test_the_timestamp_is_unix_seconds_without_digit_grouping() -> None:
    function = method_body(hmac_module(), "МеткаВремениUnix")
    assert "ТекущаяУниверсальнаяДата() - Дата(1970, 1, 1, 0, 0, 0)" in function
    assert "ЧГ=0" in function


def test_push_sends_the_signed_bytes_with_the_designs_headers() -> None:
    text = module_text("CommonModule", "тг_ОтправкаСобытий")
    headers = method_body(text, "ЗаголовкиPush")
    assert '"X-Gateway-Timestamp", МеткаВремени' in headers
    assert (
        '"X-Gateway-Signature", тг_ПодписьHMAC.ЗначениеЗаголовкаПодписи(Секрет, МеткаВремени, Тело)'
        in headers
    )
    send = method_body(text, "Отправить")
    # The body signed is the body sent: the same ДвоичныеДанные, never re-encoded.
    assert "ЗаголовкиPush(Секрет, Тело)" in send
    assert "УстановитьТелоИзДвоичныхДанных(Тело)" in send
    assert "HTTPСоединение" in send


# ---------------------------------------------------------------- BSL structure and lint


@pytest.mark.parametrize("path", all_modules(), ids=lambda p: str(p.relative_to(EXT)))
def test_bsl_blocks_are_balanced(path: Path) -> None:
    assert block_problems(path.read_text(encoding="utf-8-sig")) == []


@pytest.mark.parametrize(
    ("code", "problem"),
    [
        ("Процедура А()\n\tЕсли Б Тогда\nКонецПроцедуры", "конецпроцедуры closes если"),
        ("Функция А()\n\tДля Каждого Б Из В Цикл\n\tКонецЦикла;\n", "функция is never closed"),
        ('Процедура А()\n\tТекст = "КонецЕсли"; // КонецЕсли\nКонецПроцедуры', None),
        (
            "Процедура А()\n\tПопытка\n\tИначе\n\tКонецПопытки;\nКонецПроцедуры",
            "иначе outside если",
        ),
        ("#Область А\nПроцедура Б()\nКонецПроцедуры\n", "#область is never closed"),
    ],
)
def test_the_block_checker_finds_what_it_should(code: str, problem: str | None) -> None:
    found = block_problems(code)
    if problem is None:
        assert found == []
    else:
        assert any(problem in p for p in found), found


def test_configuration_methods_are_called_only_by_names_from_the_settings() -> None:
    """Nothing a customer sets lives in a module: the adapter takes УХ's method names from the
    settings register, and no other module calls into the configuration by name."""
    adapter = module_text("CommonModule", "тг_АдаптерУХ")
    (call,) = re.findall(r"ВыполнитьМетодКонфигурации\(([^,]+),", strip_bsl(adapter))
    assert call == "ИмяМетода"
    for name in ("МетодСогласовать", "МетодВернутьНаПредыдущийЭтап", "МетодВернутьИнициатору"):
        assert f"ВызватьМетодКонфигурации(Настройки.{name}," in adapter
    assert "тг_Настройки.НастройкиПроцесса(" in adapter
    for path in all_modules():
        if path != module_path("CommonModule", "тг_АдаптерУХ"):
            assert "ВыполнитьМетодКонфигурации" not in path.read_text("utf-8"), path.name
    # The old in-code settings are gone.
    assert "НастройкиМаршрутовУХ" not in adapter


def bslfmt() -> Iterator[str]:
    """The `bslfmt` command if installed (PyPI `bslfmt`), else nothing."""
    found = shutil.which("bslfmt") or shutil.which("bslfmt", path=str(Path(sys.executable).parent))
    if found:
        yield found


def test_bsl_modules_pass_bslfmt_check() -> None:
    """bslfmt (a BSL formatter from PyPI, pinned in requirements-dev) refuses unbalanced code
    and reports unformatted files."""
    command = next(bslfmt(), None)
    assert command, "bslfmt is missing: make test installs it from requirements-dev.txt"
    result = subprocess.run(
        [command, "--check", *map(str, all_modules())],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stdout + result.stderr


# ---------------------------------------------------------------- production fitness (issue 18)


def register_fields(name: str) -> dict[str, tuple[str, str]]:
    """Field name -> (Dimension/Resource/Attribute, type) of an information register."""
    found = {}
    for child in object_root("InformationRegister", name).find("md:ChildObjects", NS):
        kind = etree.QName(child).localname
        field = child.findtext("md:Properties/md:Name", namespaces=NS)
        found[field] = (kind, child.findtext("md:Properties/md:Type/v8:Type", namespaces=NS))
    return found


def test_the_settings_live_in_registers_and_constants_of_the_extension() -> None:
    processes = register_fields("тг_ПроцессыСогласования")
    assert processes["Процесс"][0] == "Dimension"
    for method in ("МетодСогласовать", "МетодВернутьНаПредыдущийЭтап", "МетодВернутьИнициатору"):
        assert processes[method][0] == "Resource"
    documents = register_fields("тг_ДокументыСогласования")
    assert documents["ТипДокумента"][0] == "Dimension"
    assert {"Поля", "Таблицы", "МенеджерПечати", "КомандаПечати"} <= documents.keys()
    assert {"тг_АдресPush", "тг_СекретPush", "тг_ОкноЛентыСекунд", "тг_КурсорPush"} <= names_of(
        "Constant"
    )
    secret = object_root("Constant", "тг_СекретPush")
    assert secret.findtext("md:Properties/md:PasswordMode", namespaces=NS) == "true"


def form_xml(name: str) -> etree._Element:
    return parse(EXT / "CommonForms" / name / "Ext" / "Form.xml").getroot()


LF = "{http://v8.1c.ru/8.3/xcf/logform}"


def test_the_settings_form_edits_the_constants_and_opens_the_settings_lists() -> None:
    (form,) = names_of("CommonForm")
    assert form == "тг_НастройкиШлюзаTelegram"
    synonym = object_root("CommonForm", form).findtext(
        "md:Properties/md:Synonym/v8:item/v8:content", namespaces=NS
    )
    assert synonym == "Настройки шлюза Telegram"
    root = form_xml(form)
    paths = {e.text for e in root.iter(f"{LF}DataPath")}
    assert paths == {
        "НаборКонстант.тг_АдресPush",
        "НаборКонстант.тг_СекретPush",
        "НаборКонстант.тг_ОкноЛентыСекунд",
    }
    for path in paths:
        assert path.split(".")[1] in names_of("Constant")
    (main,) = [a for a in root.iter(f"{LF}Attribute") if a.findtext(f"{LF}MainAttribute") == "true"]
    assert main.findtext(f"{LF}Type/v8:Type", namespaces=NS) == "cfg:ConstantsSet"

    module = methods(module_text("CommonForm", form))
    commands = {c.get("name"): c.findtext(f"{LF}Action") for c in root.iter(f"{LF}Command")}
    buttons = {b.findtext(f"{LF}CommandName") for b in root.iter(f"{LF}Button")}
    assert buttons == {f"Form.Command.{name}" for name in commands}
    for action in commands.values():
        assert module[action][0] == ["Команда"], action
    for event in root.iter(f"{LF}Event"):
        assert event.text in module
    text = module_text("CommonForm", form)
    opened = set(re.findall(r'ОткрытьФорму\("РегистрСведений\.(\w+)\.ФормаСписка"', text))
    assert opened == {"тг_ПроцессыСогласования", "тг_ДокументыСогласования", "тг_РешенияИзTelegram"}
    assert "РегламентныеЗаданияСервер.УстановитьРасписаниеРегламентногоЗадания(" in text
    assert "Метаданные.РегламентныеЗадания.тг_ОтправкаСобытийВШлюз" in text


def test_no_module_reads_a_customer_setting_except_the_settings_module() -> None:
    own = {
        module_path("CommonModule", "тг_Настройки"),
        module_path("CommonForm", "тг_НастройкиШлюзаTelegram"),  # opens their lists
    }
    for path in set(all_modules()) - own:
        text = path.read_text("utf-8")
        for register in ("тг_ПроцессыСогласования", "тг_ДокументыСогласования"):
            assert f"РегистрыСведений.{register}" not in text, path.parent.parent.name
            assert f"РегистрСведений.{register}" not in text, path.parent.parent.name


LOCK = re.compile(
    r'(\w+)\s*=\s*Блокировка\.Добавить\("([^"]+)"\)|Блокировка\.Добавить\("([^"]+)"\)\.'
)


def locks_of(text: str) -> list[tuple[str, bool]]:
    """(locked space, narrowed by a key value) for every managed lock a module takes."""
    found = []
    for match in LOCK.finditer(text):
        element, space, whole = match.groups()
        if whole:
            found.append((whole, False))
            continue
        rest = text[match.end() :]
        keyed = re.match(rf"[\s;]*{element}\.УстановитьЗначение\(", rest) is not None
        found.append((space, keyed))
    return found


def test_no_write_path_locks_an_infobase_wide_object() -> None:
    """Every managed lock names a key (one task, one idempotency key); no constant is locked."""
    total = 0
    for path in all_modules():
        for space, keyed in locks_of(path.read_text("utf-8")):
            assert keyed, f"{path.parent.parent.name} locks all of {space}"
            assert not space.startswith("Константа."), f"{path.parent.parent.name} locks {space}"
            total += 1
    assert total >= 2
    assert "тг_СчетчикСобытий" not in names_of("Constant")


def test_the_lock_checker_finds_a_lock_on_a_whole_object() -> None:
    bad = 'Блокировка.Добавить("Константа.Счетчик").Режим = РежимБлокировкиДанных.Исключительный;'
    assert locks_of(bad) == [("Константа.Счетчик", False)]
    good = 'Элемент = Блокировка.Добавить("Задача.З");\n\tЭлемент.УстановитьЗначение("Ссылка", З);'
    assert locks_of(good) == [("Задача.З", True)]


def test_an_event_is_one_record_keyed_by_time_and_task_written_without_a_counter() -> None:
    fields = register_fields("тг_ЛентаСобытий")
    dimensions = [name for name, (kind, _) in fields.items() if kind == "Dimension"]
    assert sorted(dimensions) == ["ИдентификаторЗадачи", "Отметка"]
    feed = module_text("CommonModule", "тг_ЛентаСобытий")
    register = method_body(feed, "ЗарегистрироватьСобытие")
    assert "ТекущаяУниверсальнаяДатаВМиллисекундах()" in register
    assert "Набор.Отбор.Отметка.Установить(Отметка)" in register
    assert "Набор.Отбор.ИдентификаторЗадачи.Установить(Идентификатор)" in register
    assert "Константы." not in register and "Блокировка" not in register
    assert "НачатьТранзакцию" not in register  # the task's own transaction is enough
    # Subscriptions reach the feed only through ЗарегистрироватьСобытие.
    subscriptions = module_text("CommonModule", "тг_ПодпискиНаСобытия")
    assert "Константы." not in strip_bsl(subscriptions)
    assert "тг_ЛентаСобытий.ЗарегистрироватьСобытие(" in subscriptions


def test_the_feed_cursor_stops_at_the_horizon_and_fresh_events_never_fill_a_page() -> None:
    feed = module_text("CommonModule", "тг_ЛентаСобытий")
    page = method_body(feed, "СобытияПосле")
    assert "ТекущаяУниверсальнаяДатаВМиллисекундах() - тг_Настройки.ОкноЛентыМиллисекунд()" in page
    assert "УПОРЯДОЧИТЬ ПО\n\t\t|\tОтметка,\n\t\t|\tИдентификаторЗадачи" in page
    # The cursor moves only with settled events; a fresh one stops the page one short of the limit.
    settled = page.index("Если Выборка.Отметка <= Горизонт Тогда")
    assert page.index("Результат.Позиция = Новый Структура(", settled) < page.index(
        "ИначеЕсли Результат.События.Количество() + 1 >= Лимит Тогда", settled
    )
    # A cursor of the previous version (a counter's number) restarts the feed instead of failing.
    cursor = method_body(feed, "ПозицияИзКурсора")
    assert cursor.index('СтрНачинаетсяС(Курсор, "v1.")') < cursor.index('"v2."')
    push = module_text("CommonModule", "тг_ОтправкаСобытий")
    assert "тг_ЛентаСобытий.СобытияПосле(Позиция, РазмерПакета())" in push
    assert "Константы.тг_КурсорPush.Установить(" in push


def test_document_fields_and_print_form_are_read_only_after_the_approvers_rights_check() -> None:
    access = module_text("CommonModule", "тг_ДоступКПредмету")
    check = method_body(access, "ПричинаОтказа")
    assert "УправлениеДоступом.ЧтениеРазрешено(Предмет, Пользователь)" in check
    assert "УправлениеДоступом.ПроизводительныйВариант()" in check
    assert 'ПравоДоступа("Чтение", МетаданныеПредмета, ПользовательИБ)' in check
    reads = ("ЗначенияРеквизитовОбъекта(Предмет", "Предмет[", "НапечататьВФайл(")
    for name in ("ПоляИТаблицы", "ПечатнаяФормаPDF"):
        body = strip_bsl(method_body(access, name))
        checked = body.index("ПричинаОтказа(Предмет, Пользователи)")
        refused = body.index("Если ЗначениеЗаполнено(Результат.ПричинаОтказа) Тогда", checked)
        first_read = min(body.index(r) for r in reads if r in body)
        assert checked < refused < first_read, name
        assert "тг_Настройки.НастройкиДокумента(" in body
    # Nobody else reads the subject's attributes or prints it.
    for path in all_modules():
        if path == module_path("CommonModule", "тг_ДоступКПредмету"):
            continue
        code = strip_bsl(path.read_text("utf-8"))
        assert "НапечататьВФайл" not in code, path.parent.parent.name
        assert "Предмет[" not in code, path.parent.parent.name
        assert "ЗначенияРеквизитовОбъекта(Предмет" not in code, path.parent.parent.name


def test_the_card_says_why_the_document_is_not_available() -> None:
    tasks = module_text("CommonModule", "тг_ПредставлениеЗадач")
    subject = method_body(tasks, "ОписаниеПредмета")
    assert "тг_ДоступКПредмету.ПоляИТаблицы(Предмет, Кандидаты)" in subject
    assert 'Отказ.Вставить("reason", "Документ недоступен: " + Состав.ПричинаОтказа)' in subject
    assert 'Результат.Вставить("denied", Отказ)' in subject
    assert 'Результат.Вставить("version",' in subject


def test_tasks_carry_the_addressing_fields_of_design_5_5() -> None:
    tasks = module_text("CommonModule", "тг_ПредставлениеЗадач")
    body = method_body(tasks, "ЗадачаВКонтракте")
    for field in ("kind", "performer", "role", "candidates", "subject", "allowed_decisions"):
        assert f'Результат.Вставить("{field}",' in body
    adapter = module_text("CommonModule", "тг_АдаптерУХ")
    candidates = method_body(adapter, "КандидатыЗадач")
    assert "РегистрСведений.ИсполнителиЗадач" in candidates
    assert "Исполнители.ГруппаИсполнителейЗадач = Задача.ГруппаИсполнителейЗадач" in candidates
    assert "БизнесПроцессыИЗадачиСервер.ГруппаИсполнителейЗадач" in adapter  # the rule cited
    can = method_body(adapter, "ПользовательМожетВыполнить")
    assert "КандидатыЗадач(Задачи)[Задача].Найти(Пользователь)" in can


def test_the_approver_becomes_the_performer_before_the_task_is_executed() -> None:
    adapter = module_text("CommonModule", "тг_АдаптерУХ")
    body = strip_bsl(method_body(adapter, "ВыполнитьРешение"))
    performer = body.index("ЗадачаОбъект.Исполнитель = Пользователь;")
    accepted = body.index("ЗадачаОбъект.ПринятаКИсполнению = Истина;")
    assert performer < body.index("ЗадачаОбъект.ВыполнитьЗадачу();")
    assert accepted < body.index("ЗадачаОбъект.ВыполнитьЗадачу();")
    for method in ("МетодСогласовать", "МетодВернутьНаПредыдущийЭтап", "МетодВернутьИнициатору"):
        call = body.index(f"ВызватьМетодКонфигурации(Настройки.{method},")
        assert body.rindex("ЗадачаОбъект.Записать();", 0, call) > accepted, method


def error_codes(text: str) -> set[tuple[int, str]]:
    return {(int(code), name) for code, name in re.findall(r'Ошибка\(\s*(\d+),\s*"(\w+)"', text)}


def test_each_decision_error_of_the_contract_is_produced_where_the_contract_says() -> None:
    server = module_text("CommonModule", "тг_ШлюзСервер")
    checks = method_body(server, "ВыполнитьРешение")
    assert {
        (404, "not_found"),
        (422, "invalid"),
        (403, "not_performer"),
        (409, "already_completed"),
        (409, "stale"),
    } <= error_codes(checks)
    # A task of a process that is not an approval is refused as invalid (design 5.5).
    kind = checks.index('ЗадачаВКонтракте.Получить("kind") <> "approval"')
    assert checks.index('"invalid"', kind) < checks.index('"not_performer"')
    # 409 stale compares what the approver saw with the task and its document now.
    assert 'Тело.Получить("expected_version")' in checks
    assert 'Тело.Получить("expected_subject_version")' in checks
    assert checks.index('"already_completed"') < checks.index('"stale"')
    assert checks.index('"stale"') < checks.index("тг_АдаптерУХ.ВыполнитьРешение(")
    # Refusals and transient failures: decided in the exception handler of ПринятьРешение.
    decide = method_body(server, "ПринятьРешение")
    handler = decide[decide.index("Исключение") :]
    assert "ОтменитьТранзакцию();" in handler
    assert (503, "unavailable") in error_codes(handler)
    assert "Не Контекст.ИдётВыполнение Или ЭтоВременнаяОшибка(Информация)" in handler
    assert handler.index("Ошибка(503") < handler.index("ЗапомнитьОтказ(")
    refused = method_body(server, "ЗапомнитьОтказ")
    assert (422, "refused") in error_codes(refused)
    assert "КраткоеПредставлениеОшибки(Информация)" in refused
    assert "ЗапомнитьОтвет(Ключ" in refused  # final: the key replays the refusal
    # Only the configuration's own execution can be a refusal.
    assert checks.index("Контекст.ИдётВыполнение = Истина;") < checks.index(
        "тг_АдаптерУХ.ВыполнитьРешение("
    )
    temporary = method_body(server, "ЭтоВременнаяОшибка")
    for sign in ("конфликт блокировок", "превышено максимальное время ожидания", "deadlock"):
        assert sign in temporary


def test_every_decision_from_telegram_is_audited_with_the_telegram_account() -> None:
    audit = register_fields("тг_РешенияИзTelegram")
    for field in (
        "Задача",
        "Документ",
        "Пользователь",
        "TelegramИдентификатор",
        "TelegramИмя",
        "Решение",
        "Комментарий",
        "Момент",
        "КлючИдемпотентности",
    ):
        assert field in audit, field
    assert audit["Пользователь"][1] == "cfg:CatalogRef.Пользователи"
    props = object_root("InformationRegister", "тг_РешенияИзTelegram").find("md:Properties", NS)
    assert props.findtext("md:UseStandardCommands", namespaces=NS) == "true"  # its list form
    module = module_text("CommonModule", "тг_Аудит")
    write = method_body(module, "ЗаписатьРешение")
    assert 'Тело.Получить("telegram_user")' in write
    assert "ЗаписьЖурналаРегистрации(" in write and "Строка(Пользователь)" in write
    server = module_text("CommonModule", "тг_ШлюзСервер")
    assert "тг_Аудит.ЗаписатьРешение(Контекст.Задача" in method_body(server, "ПринятьРешение")
    assert "тг_Аудит.ЗаписатьРешение(" in method_body(server, "ЗапомнитьОтказ")


def test_phones_are_looked_up_in_the_index_not_by_scanning_contact_information() -> None:
    server = module_text("CommonModule", "тг_ШлюзСервер")
    lookup = method_body(server, "ПользователиПоТелефону")
    assert "КонтактнаяИнформация" not in lookup
    assert 'тг_ТелефоныПользователей.ПользователиСТелефоном("+" + Цифры)' in lookup
    index = register_fields("тг_ТелефоныПользователей")
    assert index["Телефон"][0] == "Dimension"
    (subscription,) = [
        name
        for name in names_of("EventSubscription")
        if "Пользователи"
        in object_root("EventSubscription", name).findtext(
            "md:Properties/md:Source/v8:Type", namespaces=NS
        )
    ]
    handler = object_root("EventSubscription", subscription).findtext(
        "md:Properties/md:Handler", namespaces=NS
    )
    assert handler == "CommonModule.тг_ТелефоныПользователей.ПользователиПриЗаписи"


def bsl_international_number(number: str) -> str:
    """МеждународныйНомер of тг_ТелефоныПользователей, branch by branch as the BSL writes it."""
    body = method_body(
        module_text("CommonModule", "тг_ТелефоныПользователей"), "МеждународныйНомер"
    )
    assert 'Если СтрНачинаетсяС(Текст, "+") Тогда' in body
    assert 'ИначеЕсли СтрНачинаетсяС(Цифры, "00") Тогда' in body
    assert (
        'СтрДлина(Цифры) = 11 И (СтрНачинаетсяС(Цифры, "8") Или СтрНачинаетсяС(Цифры, "7"))' in body
    )
    assert 'ИначеЕсли СтрДлина(Цифры) = 10 И СтрНачинаетсяС(Цифры, "9") Тогда' in body
    assert "СтрДлина(Международный) < 8 Или СтрДлина(Международный) > 15" in body
    text = number.strip()
    digits = "".join(ch for ch in text if ch in "0123456789")
    if text.startswith("+"):
        international = digits
    elif digits.startswith("00"):
        international = digits[2:]
    elif len(digits) == 11 and digits[0] in "87":
        international = "7" + digits[1:]
    elif len(digits) == 10 and digits.startswith("9"):
        international = "7" + digits
    else:
        return ""
    return "+" + international if 8 <= len(international) <= 15 else ""


@pytest.mark.parametrize(
    ("in_1c", "expected"),
    [
        ("+7 (912) 345-67-89", "+79123456789"),
        ("8 912 345 67 89", "+79123456789"),
        ("912 345-67-89", "+79123456789"),
        ("+49 30 1234567", "+49301234567"),  # international as written, no Russian rules
        ("+1 912 345 6789", "+19123456789"),
        ("0049 30 1234567", "+49301234567"),
        ("30 1234567", ""),  # no country code and not a Russian form: not indexed
    ],
)
def test_numbers_from_1c_are_indexed_in_international_form(in_1c: str, expected: str) -> None:
    assert bsl_international_number(in_1c) == expected


def test_the_error_codes_the_extension_answers_are_the_contracts_and_all_of_them_are_used() -> None:
    produced: set[tuple[int, str]] = set()
    for path in all_modules():
        produced |= error_codes(path.read_text("utf-8"))
    enum = set(openapi()["components"]["schemas"]["Error"]["properties"]["error"]["enum"])
    assert {name for _, name in produced} == enum
    decision = openapi()["paths"]["/tasks/{id}/decision"]["post"]["responses"]
    statuses = {str(code) for code, _ in produced if code != 400}
    assert statuses <= set(decision) | {"404"}


def test_the_contract_describes_the_rights_refusal_and_the_telegram_account() -> None:
    schemas = openapi()["components"]["schemas"]
    denied = schemas["Subject"]["properties"]["denied"]
    assert {"type": "null"} in denied["anyOf"]
    assert "denied" not in schemas["Subject"]["required"]  # compatible: older servers omit it
    telegram_user = schemas["DecisionRequest"]["properties"]["telegram_user"]
    assert telegram_user["required"] == ["id", "name"]
    assert "telegram_user" not in schemas["DecisionRequest"]["required"]
